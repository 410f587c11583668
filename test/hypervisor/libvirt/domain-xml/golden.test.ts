// Golden XML per representative profile. Regenerate with UPDATE_GOLDEN=1 bun test <this dir>,
// then read the diff: every change to these files is a change to what libvirt is told.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDomainXml, parseDomainXml } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { expectedSpec, profiles } from "./profiles.ts";

const GOLDEN_DIR = join(import.meta.dir, "golden");
const update = process.env.UPDATE_GOLDEN === "1";

const TARGETS: Record<string, string[]> = {
  "minimal-bios": ["vda"],
  "uefi-disks-nics-spice": ["vda", "sda", "sdb"],
  "gpu-passthrough": ["vda"],
  "hostile-strings": ["vda"],
};

describe("domain XML golden files", () => {
  for (const [name, input] of Object.entries(profiles)) {
    const file = join(GOLDEN_DIR, `${name}.xml`);

    test(`${name}: built XML matches golden/${name}.xml`, () => {
      const xml = buildDomainXml(input);
      if (update) writeFileSync(file, xml);
      expect(xml).toBe(readFileSync(file, "utf8"));
    });

    test(`${name}: golden XML parses back to the spec`, () => {
      const parsed = parseDomainXml(readFileSync(file, "utf8"));
      expect(parsed).toEqual({
        id: input.id,
        name: input.spec.name,
        spec: expectedSpec(input, TARGETS[name] ?? []),
        createdAt: input.createdAt,
        domainType: input.domainType,
        console:
          input.spec.console.type === "none"
            ? undefined
            : {
                type: input.spec.console.type,
                autoport: true,
                listen: input.spec.console.listen ?? input.consoleListen,
                ...(input.spec.console.password === undefined ? {} : { password: input.spec.console.password }),
              },
      });
    });

    test(`${name}: building is deterministic and does not mutate the input`, () => {
      const before = structuredClone(input);
      expect(buildDomainXml(input)).toBe(buildDomainXml(input));
      expect(input).toEqual(before);
    });
  }
});
