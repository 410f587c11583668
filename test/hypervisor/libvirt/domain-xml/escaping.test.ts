import { cloudInitDigest } from "../../../../src/hypervisor/defaults.ts";
// Everything the user controls is text: it must come back unchanged and never become structure.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { XMLParser } from "fast-xml-parser";
import {
  buildDiskDeviceXml,
  buildDomainXml,
  buildNicDeviceXml,
  buildSnapshotXml,
  parseDomainXml,
  parseSnapshotXml,
} from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { HypervisorError } from "../../../../src/hypervisor/errors.ts";
import { illegalXmlChar, parseXml, type XmlNode } from "../../../../src/hypervisor/libvirt/domain-xml/xml-tree.ts";
import { expectedSpec, hostileSpec, minimalSpec, profiles } from "./profiles.ts";

const hostile = profiles["hostile-strings"];
const minimal = profiles["minimal-bios"];
if (!hostile || !minimal) throw new Error("profiles missing");

/** Every element path in document order, e.g. "domain/devices/disk/source": the XML's structure. */
function shape(node: XmlNode, prefix = ""): string[] {
  const here = `${prefix}${node.name}`;
  return [here, ...node.children.flatMap((c) => shape(c, `${here}/`))];
}

describe("hostile strings", () => {
  test("a hostile spec yields exactly the structure of a benign one", () => {
    const benign = buildDomainXml({
      ...minimal,
      // Same machine and domain type, so the same spare PCIe ports (q35 only) and timers.
      machine: hostile.machine,
      domainType: hostile.domainType,
      spec: {
        ...minimalSpec,
        cpu: { ...minimalSpec.cpu, mode: "custom", model: "qemu64" },
        nics: [{ id: "n1", network: "default", mac: "52:54:00:00:00:66", model: "virtio" }],
        console: { type: "vnc", password: "p", listen: "127.0.0.1" },
        labels: Object.fromEntries(Object.keys(hostileSpec.labels).map((_, i) => [`k${i}`, "v"])),
        description: "d",
        guestOs: "plan9",
        cloudInit: { userData: "u", metaData: "m", networkConfig: "n", vendorData: "v" },
      },
    });
    expect(shape(parseXml(buildDomainXml(hostile), "hostile"))).toStrictEqual(shape(parseXml(benign, "benign")));
  });

  test("a generic XML parser reads the hostile values back as the same text", () => {
    const parsed = new XMLParser({ ignoreAttributes: false, trimValues: false, htmlEntities: true }).parse(buildDomainXml(hostile));
    expect(parsed.domain.name).toBe("</name><devices>");
    expect(parsed.domain.devices.disk.source["@_file"]).toBe(`/var/lib/limiquantix/images/it's "x" & <y>.qcow2`);
    expect(parsed.domain.devices.graphics["@_passwd"]).toBe(`p"a'ss<&>`);
    // cloud-init data never reaches the domain XML (it can hold secrets): only its digest.
    expect(parsed.domain.metadata["lq:vm"]["lq:cloud-init"]["@_sha256"]).toBe(cloudInitDigest(hostileSpec.cloudInit!));
    expect(buildDomainXml(hostile)).not.toContain("user-data");
  });

  test("parse gives back every hostile value, including a __proto__ label key", () => {
    const parsed = parseDomainXml(buildDomainXml(hostile));
    expect(parsed.spec).toStrictEqual(expectedSpec(hostile, ["vda"]));
    expect(Object.hasOwn(parsed.spec.labels, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(parsed.spec.labels)).toBe(Object.prototype);
  });

  test("a label value 'true' stays a quoted attribute value", () => {
    const xml = buildDomainXml({ ...minimal, spec: { ...minimalSpec, labels: { on: "true" } } });
    expect(xml).toContain(`<lq:label key="on" value="true"/>`);
  });

  test("tab, newline and CR are written as character references, so XML normalisation cannot change them", () => {
    const xml = buildDomainXml({ ...minimal, spec: { ...minimalSpec, labels: { k: "a\tb\nc\rd" }, description: "x\r\ny" } });
    expect(xml).toContain(`value="a&#9;b&#10;c&#13;d"`);
    expect(xml).toContain(`<lq:description>x&#13;&#10;y</lq:description>`);
  });

  test("hot-plug device XML escapes its values too", () => {
    const disk = buildDiskDeviceXml({ id: `a"b`, path: `/x/<y>&'z'.img`, bus: "virtio", bootOrder: 0, readonly: true, device: "disk", target: "vdb" }, "raw");
    expect(shape(parseXml(disk, "disk"))).toStrictEqual(["disk", "disk/driver", "disk/source", "disk/target", "disk/readonly", "disk/alias"]);
    expect(parseXml(disk, "disk").children[1]?.attrs.file).toBe(`/x/<y>&'z'.img`);
    const nic = buildNicDeviceXml({ id: "n", bridge: `br"/><x`, mac: "52:54:00:00:00:01", model: "virtio" });
    expect(parseXml(nic, "nic").children[1]?.attrs.bridge).toBe(`br"/><x`);
  });

  test("snapshot names and descriptions are text", () => {
    const xml = buildSnapshotXml({ name: "</name><memory snapshot='no'/>", description: "]]>&amp;", includeMemory: true });
    const root = parseXml(xml, "snapshot");
    expect(shape(root)).toStrictEqual(["domainsnapshot", "domainsnapshot/name", "domainsnapshot/description", "domainsnapshot/memory"]);
    const parsed = parseSnapshotXml(xml.replace("</domainsnapshot>", "<state>running</state><creationTime>1</creationTime></domainsnapshot>"));
    expect([parsed.name, parsed.description]).toStrictEqual(["</name><memory snapshot='no'/>", "]]>&amp;"]);
  });
});

describe("characters XML cannot carry are rejected with the field that holds them", () => {
  const cases: [string, Partial<typeof minimalSpec>, string][] = [
    ["NUL in the name", { name: "a\u0000b" }, "spec.name"],
    ["ESC in a label value", { labels: { k: "\u001b[31m" } }, "spec.labels.k"],
    ["vertical tab in a label key", { labels: { "a\u000bb": "v" } }, "spec.labels key"],
    ["U+FFFE in the description", { description: "\ufffe" }, "spec.description"],
    ["a lone surrogate in the description", { description: "x\ud800y" }, "spec.description"],
  ];
  for (const [name, patch, field] of cases) {
    test(name, () => {
      let caught: unknown;
      try {
        buildDomainXml({ ...minimal, spec: { ...minimalSpec, ...patch } });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(HypervisorError);
      expect((caught as HypervisorError).kind).toBe("invalid_argument");
      expect((caught as HypervisorError).field).toStartWith(field);
    });
  }

  test("illegalXmlChar accepts the whole legal range including astral characters", () => {
    expect(illegalXmlChar("tab\tnl\ncr\r é € 😀 \ud7ff \ue000 \ufffd")).toBeUndefined();
    expect(illegalXmlChar("\u0008")).toBe("U+0008");
    expect(illegalXmlChar("\uffff")).toBe("U+FFFF");
  });
});

// XML 1.0 legal characters, biased towards the ones that matter: markup, whitespace, non-ASCII.
const xmlChar = fc.oneof(
  fc.constantFrom("<", ">", "&", '"', "'", "\t", "\n", "\r", " ", "]", "/", "=", ";", "#", "é", "😀", "\u00a0"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => illegalXmlChar(c) === undefined),
);
const xmlText = fc.string({ unit: xmlChar, maxLength: 24 });

describe("round trip property", () => {
  test("any legal name, label set, description, path and password comes back unchanged", () => {
    fc.assert(
      fc.property(xmlText, fc.dictionary(xmlText, xmlText, { maxKeys: 4 }), xmlText, xmlText, xmlText, (name, labels, description, path, password) => {
        const spec = {
          ...minimalSpec,
          name,
          labels,
          description,
          console: { type: "vnc" as const, password, listen: "::1" },
          disks: [{ ...minimalSpec.disks[0]!, id: name, path: `/${path}`, resolvedPath: `/${path}` }],
        };
        const parsed = parseDomainXml(buildDomainXml({ ...minimal, spec }));
        expect(parsed.spec).toStrictEqual({ ...spec, disks: [{ ...spec.disks[0]!, target: "vda" }] });
      }),
      { numRuns: 150, seed: 4242 },
    );
  });
});
