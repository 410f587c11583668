// The NoCloud seed files: what is generated when data is missing, what is passed through, and
// that a VM name written into YAML reads back as exactly that name, checked with the `yaml`
// package (YAML 1.1 and 1.2) and with PyYAML, the parser cloud-init itself uses.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parse } from "yaml";
import { noCloudFiles, yamlString } from "../../src/cloud-init/nocloud-files.ts";
import { python, run } from "./host-tools.ts";

const VM = { id: "6c2b1a8e-4f0d-4c1e-9a57-0d6c2f1b3e9a", name: "web-01" };
const NONE = { userData: "", metaData: "", networkConfig: "", vendorData: "" };

describe("noCloudFiles", () => {
  test("nothing given: user-data and meta-data are generated, nothing else", () => {
    expect(noCloudFiles(VM, NONE)).toEqual([
      { name: "user-data", content: "#cloud-config\nhostname: web-01\n" },
      { name: "meta-data", content: 'instance-id: "6c2b1a8e-4f0d-4c1e-9a57-0d6c2f1b3e9a"\nlocal-hostname: web-01\n' },
    ]);
  });

  test("everything given: written verbatim, in the NoCloud order", () => {
    const ci = { userData: "#!/bin/sh\necho hi\n", metaData: "instance-id: x\n", networkConfig: "version: 2\n", vendorData: "#cloud-config\n" };
    expect(noCloudFiles(VM, ci)).toEqual([
      { name: "user-data", content: ci.userData },
      { name: "meta-data", content: ci.metaData },
      { name: "network-config", content: ci.networkConfig },
      { name: "vendor-data", content: ci.vendorData },
    ]);
  });

  test("optional files appear only when non-empty", () => {
    expect(noCloudFiles(VM, { ...NONE, vendorData: "x" }).map((f) => f.name)).toEqual(["user-data", "meta-data", "vendor-data"]);
    expect(noCloudFiles(VM, { ...NONE, networkConfig: "x" }).map((f) => f.name)).toEqual(["user-data", "meta-data", "network-config"]);
  });

  test("a hostile name is quoted in both generated files", () => {
    const files = noCloudFiles({ id: "i-1", name: 'evil\nruncmd: ["rm -rf /"] # "' }, NONE);
    expect(files[0]?.content).toBe('#cloud-config\nhostname: "evil\\nruncmd: [\\"rm -rf /\\"] # \\""\n');
    expect(parse(files[1]?.content ?? "")).toEqual({ "instance-id": "i-1", "local-hostname": 'evil\nruncmd: ["rm -rf /"] # "' });
  });
});

describe("yamlString", () => {
  test.each([
    ["web-01", "web-01"],
    ["db.example_1", "db.example_1"],
    ["web 01", '"web 01"'],
    ["123", '"123"'],
    ["1e3", '"1e3"'],
    ["E0", '"E0"'],
    ["e-5", '"e-5"'],
    ["else", "else"],
    ["-", '"-"'],
    [".inf", '".inf"'],
    ["on", '"on"'],
    ["YES", '"YES"'],
    ["Null", '"Null"'],
    ["", '""'],
    ["a: b", '"a: b"'],
    ["é", '"é"'],
    ["a\u2028b\u0085c", '"a\\u2028b\\u0085c"'],
    ["tab\there", '"tab\\there"'],
  ])("%p -> %p", (name, yaml) => expect(yamlString(name)).toBe(yaml));
});

// Names of every kind: plain-looking words, YAML keywords and numbers, full Unicode, the
// characters YAML treats specially, and lone surrogates.
const SPECIAL = [
  "\u0085",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\ufffe",
  "\u007f",
  "\u0000",
  "\ud800",
  "\udc00",
  '"',
  "\\",
  "#",
  ":",
  "-",
  " ",
  "\n",
  "\t",
  "'",
  "!",
  "&",
  "*",
  "{",
  "[",
];
const anyName = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ unit: fc.constantFrom(...SPECIAL, "a", "1", "."), maxLength: 8 }),
  fc.constantFrom("yes", "No", "ON", "off", "true", "null", "~", "0x1f", "1_000", "12:30", "2024-01-01", ".nan", "-1", "E0", "e-5"),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
);
const metaData = (name: string) => noCloudFiles({ id: name, name }, NONE)[1]?.content ?? "";

describe("names read back as themselves", () => {
  test("yaml package, YAML 1.1 and 1.2 (property)", () => {
    fc.assert(
      fc.property(anyName, (name) => {
        for (const version of ["1.1", "1.2"] as const) {
          expect(parse(metaData(name), { version })).toEqual({ "instance-id": name, "local-hostname": name });
        }
      }),
      { numRuns: 2000 },
    );
  });

  const py = python("yaml");
  test.skipIf(!py)("PyYAML safe_load, as cloud-init reads meta-data (one process, many names)", () => {
    const names = [...fc.sample(anyName, { numRuns: 1500, seed: 42 }), ...SPECIAL, "web-01", "é😀"];
    const script = "import json, sys, yaml\n" + "docs = json.load(sys.stdin)\n" + "print(json.dumps([yaml.safe_load(d) for d in docs], default=repr))\n";
    const loaded = JSON.parse(run([py as string, "-c", script], JSON.stringify(names.map(metaData))).stdout.toString());
    expect(loaded).toEqual(names.map((n) => ({ "instance-id": n, "local-hostname": n })));
  });
});
