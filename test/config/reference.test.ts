// src/config/REFERENCE.md is generated from the key table; this keeps the two in step.
// Regenerate with: UPDATE_CONFIG_REFERENCE=1 bun test test/config/reference.test.ts

import { expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ENV_VARS, envName, KEYS } from "../../src/config/index.ts";
import { renderReference } from "../../src/config/reference.ts";

const FILE = join(import.meta.dir, "..", "..", "src", "config", "REFERENCE.md");

test("REFERENCE.md matches the key table", () => {
  const rendered = renderReference();
  if (process.env.UPDATE_CONFIG_REFERENCE === "1") writeFileSync(FILE, rendered);
  expect(readFileSync(FILE, "utf8")).toBe(rendered);
});

test("environment names are derived, unique, and include the ones operators know", () => {
  expect(new Set(ENV_VARS).size).toBe(ENV_VARS.length);
  expect(ENV_VARS).toEqual(
    expect.arrayContaining([
      "LIMIQUANTIX_LISTEN_ADDRESS",
      "LIMIQUANTIX_CONTROL_PLANE_ADDRESS",
      "LIMIQUANTIX_HYPERVISOR_BACKEND",
      "LIMIQUANTIX_LOG_LEVEL",
      "LIMIQUANTIX_CONFIG",
    ]),
  );
  expect(envName("server.listen_address")).toBe("LIMIQUANTIX_SERVER_LISTEN_ADDRESS");
  for (const spec of KEYS) expect(ENV_VARS).toContain(envName(spec.key));
});
