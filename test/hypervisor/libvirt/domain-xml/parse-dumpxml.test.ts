// parseDomainXml over XML as libvirt returns it: live XML with aliases, PCI addresses, ports and
// security labels, hand-defined VMs without our metadata, and libvirt's re-serialisation of ours.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDomainXml, type ParsedDomain } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { expectedSpec, profiles } from "./profiles.ts";

const fixture = (name: string) => readFileSync(join(import.meta.dir, "fixtures", name), "utf8");

describe("parseDomainXml on virsh dumpxml output", () => {
  test("running KVM domain with VNC on 5901, aliases, addresses and seclabels", () => {
    const expected: ParsedDomain = {
      id: "7a1f9c2e-4b3d-4e5f-8a6b-9c0d1e2f3a4b",
      name: "web-7",
      domainType: "kvm",
      createdAt: new Date("2026-11-20T08:15:00.000Z"),
      console: { type: "vnc", port: 5901, listen: "0.0.0.0", password: "vnc-pass", autoport: true },
      spec: {
        name: "web-7",
        cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 2, mode: "host-passthrough" },
        memoryMib: 4096,
        hugepages: false,
        disks: [
          {
            id: "root",
            path: "/var/lib/limiquantix/images/web-7-root.qcow2",
            resolvedPath: "/var/lib/limiquantix/images/web-7-root.qcow2",
            bus: "virtio",
            bootOrder: 1,
            readonly: false,
            device: "disk",
            target: "vda",
          },
          {
            id: "scratch",
            newImage: { sizeBytes: 10737418240, format: "qcow2" },
            resolvedPath: "/var/lib/limiquantix/vms/web-7/scratch.qcow2",
            bus: "virtio",
            bootOrder: 0,
            readonly: false,
            device: "disk",
            target: "vdb",
          },
          {
            id: "iso",
            path: "/var/lib/limiquantix/iso/debian-12.7.0-amd64-netinst.iso",
            resolvedPath: "/var/lib/limiquantix/iso/debian-12.7.0-amd64-netinst.iso",
            bus: "sata",
            bootOrder: 2,
            readonly: true,
            device: "cdrom",
            target: "sda",
          },
        ],
        nics: [
          { id: "eth0", network: "default", mac: "52:54:00:3e:7a:10", model: "virtio" },
          // Attached by hand (libvirt alias net1): the MAC is its id.
          { id: "5254003e7a11", bridge: "br-storage", mac: "52:54:00:3e:7a:11", model: "virtio" },
        ],
        firmware: "bios",
        console: { type: "vnc", password: "vnc-pass", listen: "0.0.0.0" },
        hostDevices: [],
        labels: { app: "web", note: 'line1\nline2 "q" & <x>' },
        description: "Front end & cache\ntier <blue>",
        guestOs: "",
      },
    };
    expect(parseDomainXml(fixture("virsh-dumpxml-running-vnc.xml"))).toStrictEqual(expected);
  });

  test("hand-defined UEFI VM: no metadata, GiB memory, block disk, empty cdrom, direct NIC, GPU", () => {
    const expected: ParsedDomain = {
      id: "0b6c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3",
      name: "render-node",
      domainType: "kvm",
      console: { type: "spice", autoport: true },
      spec: {
        name: "render-node",
        cpu: { sockets: 1, coresPerSocket: 6, threadsPerCore: 1, mode: "custom", model: "EPYC-Rome" },
        memoryMib: 16384,
        hugepages: true,
        disks: [
          {
            id: "sda",
            path: "/dev/vg0/render-root",
            resolvedPath: "/dev/vg0/render-root",
            bus: "scsi",
            bootOrder: 0,
            readonly: false,
            device: "disk",
            target: "sda",
          },
          // An empty drive: no path.
          { id: "sdb", bus: "sata", bootOrder: 0, readonly: true, device: "cdrom", target: "sdb" },
        ],
        // The macvtap (type='direct') NIC has no spec equivalent and is left out.
        nics: [{ id: "5254009a0103", bridge: "br0", mac: "52:54:00:9a:01:03", model: "e1000" }],
        firmware: "uefi",
        console: { type: "spice" },
        hostDevices: [
          { pciAddress: "0000:41:00.0", romBar: false },
          { pciAddress: "0000:41:00.1", romBar: true },
        ],
        labels: {},
        description: "defined by hand, no limiquantix metadata",
        guestOs: "",
      },
    };
    expect(parseDomainXml(fixture("virsh-dumpxml-gpu-spice-inactive.xml"))).toStrictEqual(expected);
  });

  test("running host-model VM: libvirt shows the expanded CPU, the spec still says host-model", () => {
    const input = profiles["minimal-bios"];
    if (!input) throw new Error("profile missing");
    const parsed = parseDomainXml(fixture("virsh-dumpxml-host-model-running.xml"));
    expect(parsed.spec).toStrictEqual(expectedSpec(input, ["vda"]));
    expect(parsed.console).toStrictEqual({ type: "vnc", port: 5900, listen: "127.0.0.1", autoport: true });
  });

  test("libvirt's own re-serialisation of a built domain (test driver, live, secure) gives the spec back", () => {
    // Captured from libvirt 9.0's test:///default after defining golden/uefi-disks-nics-spice.xml:
    // single quotes, raw newline in the description, <address> and target devs added.
    const input = profiles["uefi-disks-nics-spice"];
    if (!input) throw new Error("profile missing");
    const parsed = parseDomainXml(fixture("testdriver-dumpxml-uefi-live.xml"));
    expect(parsed.spec).toStrictEqual(expectedSpec(input, ["vda", "sda", "sdb"]));
    expect(parsed.createdAt).toEqual(input.createdAt);
  });

  test("metadata written back by virDomainSetMetadata under another prefix is still ours", () => {
    // Captured: SetMetadata(key "lqx") renames the top element and keeps the inner lq: prefix.
    const parsed = parseDomainXml(fixture("testdriver-dumpxml-setmetadata.xml"));
    expect(parsed.spec.labels).toStrictEqual({ a: "b" });
    expect(parsed.createdAt).toBeUndefined();
    expect(parsed.spec.description).toBe("");
  });
});

describe("parse cache", () => {
  test("the same text parsed twice gives equal results that the caller may change freely", () => {
    const xml = fixture("virsh-dumpxml-running-vnc.xml");
    const first = parseDomainXml(xml);
    first.spec.labels.app = "changed";
    first.spec.disks.pop();
    first.createdAt?.setTime(0);
    const second = parseDomainXml(xml);
    expect(second.spec.labels.app).toBe("web");
    expect(second.spec.disks).toHaveLength(3);
    expect(second.createdAt).toEqual(new Date("2026-11-20T08:15:00.000Z"));
  });

  test("different text is parsed again", () => {
    const xml = fixture("virsh-dumpxml-running-vnc.xml");
    const renamed = xml.replace("<name>web-7</name>", "<name>web-8</name>");
    expect([parseDomainXml(xml).name, parseDomainXml(renamed).name]).toStrictEqual(["web-7", "web-8"]);
  });
});

describe("metadata is found by namespace URI, not by prefix", () => {
  const domainWith = (metadata: string) => `<domain type='kvm'>
  <name>m</name><uuid>11111111-2222-4333-8444-555555555555</uuid>
  <metadata>${metadata}</metadata>
  <memory unit='KiB'>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices/>
</domain>`;
  const NS = "https://limiquantix.io/xmlns/node/v1";

  const cases: [string, string, Record<string, string>][] = [
    ["usual lq prefix", `<lq:vm xmlns:lq="${NS}"><lq:labels><lq:label key="k" value="v"/></lq:labels></lq:vm>`, { k: "v" }],
    ["other prefix", `<q:vm xmlns:q="${NS}"><q:labels><q:label key="k" value="v"/></q:labels></q:vm>`, { k: "v" }],
    ["default namespace", `<vm xmlns="${NS}"><labels><label key="k" value="v"/></labels></vm>`, { k: "v" }],
    ["unprefixed children of our element", `<lq:vm xmlns:lq="${NS}"><labels><label key="k" value="v"/></labels></lq:vm>`, { k: "v" }],
    ["declared on <metadata>", `<lq:vm><lq:labels><lq:label key="k" value="v"/></lq:labels></lq:vm>`, {}],
    ["someone else's namespace", `<lq:vm xmlns:lq="https://example.com/other"><lq:labels><lq:label key="k" value="v"/></lq:labels></lq:vm>`, {}],
    ["a look-alike without namespace", `<vm><labels><label key="k" value="v"/></labels></vm>`, {}],
    [
      "label without key is skipped, missing value is empty",
      `<lq:vm xmlns:lq="${NS}"><lq:labels><lq:label value="x"/><lq:label key="k"/></lq:labels></lq:vm>`,
      { k: "" },
    ],
  ];
  for (const [name, metadata, labels] of cases) {
    test(name, () => {
      expect(parseDomainXml(domainWith(metadata)).spec.labels).toStrictEqual(labels);
    });
  }

  test("namespace declared on an ancestor applies", () => {
    const xml = domainWith(`<lq:vm><lq:labels><lq:label key="k" value="v"/></lq:labels></lq:vm>`).replace("<metadata>", `<metadata xmlns:lq="${NS}">`);
    expect(parseDomainXml(xml).spec.labels).toStrictEqual({ k: "v" });
  });
});

describe("parseDomainXml rejects what it cannot read", () => {
  const cases: [string, string, string][] = [
    ["malformed", "<domain><name>x</domain>", "malformed XML at line 1"],
    ["not a domain", "<network><name>x</name></network>", "root element is <network>"],
    ["no uuid", "<domain><name>x</name><memory>1</memory></domain>", "<name>, <uuid> and <memory> are required"],
    ["bad memory", "<domain><name>x</name><uuid>u</uuid><memory>lots</memory></domain>", "expected an integer"],
    ["bad unit", "<domain><name>x</name><uuid>u</uuid><memory unit='furlongs'>1</memory></domain>", "unknown unit"],
    ["empty", "", "malformed XML"],
  ];
  for (const [name, xml, message] of cases) {
    test(name, () => {
      expect(() => parseDomainXml(xml)).toThrow(message);
    });
  }
});
