// Pool XML: golden files for what virStoragePoolDefineXML gets, the parser over libvirt's own
// output, hostile strings escaped and read back unchanged. Regenerate the golden files with
// UPDATE_GOLDEN=1 and read the diff.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildDirPoolXml, parsePoolXml, type DirPoolXmlOptions } from "../../../../src/hypervisor/libvirt/domain-xml/pool-xml.ts";

const GOLDEN = join(import.meta.dir, "golden-pool");
const FIXTURES = join(import.meta.dir, "fixtures");
const update = process.env.UPDATE_GOLDEN === "1";

const profiles: Record<string, DirPoolXmlOptions> = {
  "uuid-named": {
    name: "0b8e1c52-6f0e-4d8c-9d55-2a4f1b9c7e10",
    uuid: "0b8e1c52-6f0e-4d8c-9d55-2a4f1b9c7e10",
    path: "/var/lib/limiquantix/pools/0b8e1c52-6f0e-4d8c-9d55-2a4f1b9c7e10",
  },
  "node-default": { name: "limiquantix", path: "/var/lib/limiquantix/vms" },
  hostile: { name: `a<b>&"c'`, path: "/srv/a&b/<x>/'q'\"/\ttab\nline" },
};

describe("dir pool XML golden files", () => {
  for (const [name, opts] of Object.entries(profiles)) {
    test(`${name}: matches golden-pool/${name}.xml and reads back`, () => {
      const xml = buildDirPoolXml(opts);
      const file = join(GOLDEN, `${name}.xml`);
      if (update) writeFileSync(file, xml);
      expect(xml).toBe(readFileSync(file, "utf8"));
      const back = parsePoolXml(xml);
      expect(back).toEqual({ type: "dir", name: opts.name, ...(opts.uuid ? { uuid: opts.uuid } : {}), targetPath: opts.path });
    });
  }

  test("hostile strings are escaped, never raw markup", () => {
    const xml = buildDirPoolXml(profiles.hostile as DirPoolXmlOptions);
    expect(xml).toContain("<name>a&lt;b&gt;&amp;&quot;c&apos;</name>");
    expect(xml).not.toContain("<x>");
  });

  test("characters XML cannot carry are refused", () => {
    expect(() => buildDirPoolXml({ name: "a\u0001b", path: "/x" })).toThrow(expect.objectContaining({ kind: "invalid_argument" }));
  });

  test("any name and path round-trip (property)", () => {
    const text = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" }).filter((s) => s.trim() === s && s !== "");
    fc.assert(
      fc.property(text, text, (name, path) => {
        const back = parsePoolXml(buildDirPoolXml({ name, path: `/${path}` }));
        expect(back.name).toBe(name);
        expect(back.targetPath).toBe(`/${path}`);
      }),
    );
  });
});

describe("parsePoolXml over libvirt's output", () => {
  test("virsh pool-dumpxml of a running dir pool", () => {
    expect(parsePoolXml(readFileSync(join(FIXTURES, "virsh-pool-dumpxml-dir.xml"), "utf8"))).toEqual({
      type: "dir",
      name: "lq-fixture",
      uuid: "bbc583bc-3b38-488a-887d-4cbb84347ab3",
      targetPath: "/tmp/lq-fixture-pool",
      capacityBytes: 270553174016,
      allocationBytes: 23752081408,
      availableBytes: 246801092608,
    });
  });

  test("units other than bytes; pools without a target", () => {
    const xml = "<pool type='rbd'><name>ceph</name><capacity unit='GiB'>2</capacity><source><name>rbd</name></source></pool>";
    expect(parsePoolXml(xml)).toEqual({ type: "rbd", name: "ceph", sourceName: "rbd", capacityBytes: 2 * 1024 ** 3 });
  });

  test.each([
    ["not a pool", "<volume><name>x</name></volume>"],
    ["no name", "<pool type='dir'><target><path>/x</path></target></pool>"],
    ["malformed", "<pool type='dir'><name>x</name>"],
    ["a size that is not a number", "<pool type='dir'><name>x</name><capacity>lots</capacity></pool>"],
    ["an unknown unit", "<pool type='dir'><name>x</name><capacity unit='parsecs'>1</capacity></pool>"],
  ])("%s is an internal error", (_n, xml) => {
    expect(() => parsePoolXml(xml)).toThrow(expect.objectContaining({ kind: "internal" }));
  });
});
