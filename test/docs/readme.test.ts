// The README's config reference is generated from the key table; this keeps them equal.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BEGIN, END, renderConfigReference } from "../../scripts/config-reference.ts";

test("README config reference matches src/config/keys.ts (run: bun scripts/config-reference.ts --write)", () => {
  const readme = readFileSync(join(import.meta.dir, "..", "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
  expect(section).toBe(renderConfigReference());
});
