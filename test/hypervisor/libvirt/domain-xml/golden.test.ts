// Golden XML per representative profile. Regenerate with UPDATE_GOLDEN=1 bun test <this dir>,
// then read the diff: every change to these files is a change to what libvirt is told.
// Each golden file is also checked against libvirt's RNG schema with virt-xml-validate when the
// tool is installed (Debian: libvirt-clients, plus libxml2-utils for the xmllint it runs).

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { specsEqual } from "../../../../src/hypervisor/defaults.ts";
import { buildDomainXml, parseDomainXml } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { expectedSpec, profiles, profileTargets } from "./profiles.ts";

const GOLDEN_DIR = join(import.meta.dir, "golden");
const update = process.env.UPDATE_GOLDEN === "1";

/** virt-xml-validate runs xmllint; without either the schema check is skipped. */
const schemaValidator = Bun.which("virt-xml-validate") && Bun.which("xmllint") ? "virt-xml-validate" : undefined;
if (!schemaValidator) console.warn("skipping schema checks: virt-xml-validate or xmllint not found (apt-get install libvirt-clients libxml2-utils)");

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
      const { console } = input.spec;
      expect(parsed).toEqual({
        id: input.id,
        name: input.spec.name,
        spec: expectedSpec(input, profileTargets[name] ?? []),
        createdAt: input.createdAt,
        domainType: input.domainType,
        console:
          console.type === "none"
            ? undefined
            : {
                type: console.type,
                autoport: console.port === undefined,
                listen: console.listen ?? input.consoleListen,
                ...(console.port === undefined ? {} : { port: console.port }),
                ...(console.password === undefined ? {} : { password: console.password }),
              },
      });
      // What CreateVM's idempotency check compares: the request (with the console listen address
      // the backend fills in) against the spec read back.
      expect(specsEqual({ ...input.spec, console: expectedSpec(input, []).console }, parsed.spec)).toBe(true);
    });

    test(`${name}: building is deterministic and does not mutate the input`, () => {
      const before = structuredClone(input);
      expect(buildDomainXml(input)).toBe(buildDomainXml(input));
      expect(input).toEqual(before);
    });

    test.skipIf(!schemaValidator)(`${name}: golden/${name}.xml is valid by libvirt's domain schema`, () => {
      const run = Bun.spawnSync(["virt-xml-validate", file, "domain"], { stdout: "pipe", stderr: "pipe" });
      expect(`${run.stdout.toString()}${run.stderr.toString()}`.trim()).toBe(`${file} validates`);
      expect(run.exitCode).toBe(0);
    });
  }
});
