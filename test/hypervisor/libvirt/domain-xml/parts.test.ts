// Target assignment, alias encoding, PCI addresses, device/storage XML and the model round trip.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  assignDiskTargets,
  buildDirPoolXml,
  buildDiskDeviceXml,
  buildDomainXml,
  buildNicDeviceXml,
  buildVolumeXml,
  parseDomainXml,
} from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { readDomain } from "../../../../src/hypervisor/libvirt/domain-xml/domain-reader.ts";
import { writeDomain } from "../../../../src/hypervisor/libvirt/domain-xml/domain-writer.ts";
import { formatPciAddress, parsePciAddress } from "../../../../src/hypervisor/libvirt/domain-xml/pci-address.ts";
import { decodeAliasId, encodeAliasId } from "../../../../src/hypervisor/libvirt/domain-xml/user-alias.ts";
import { busOnMachine, nextTarget } from "../../../../src/hypervisor/disk-targets.ts";
import { parseXml, serializeXml } from "../../../../src/hypervisor/libvirt/domain-xml/xml-tree.ts";
import type { DiskBus, DiskSpec } from "../../../../src/hypervisor/types.ts";
import { minimalSpec, profiles } from "./profiles.ts";

const disk = (id: string, bus: DiskBus, target?: string): DiskSpec => ({
  id,
  path: `/img/${id}`,
  bus,
  bootOrder: 0,
  readonly: false,
  device: "disk",
  ...(target === undefined ? {} : { target }),
});

describe("assignDiskTargets", () => {
  const targets = (disks: DiskSpec[], taken?: string[], machine?: string) => assignDiskTargets(disks, taken, machine).map((d) => d.target);

  test("per bus, in spec order: vd* for virtio, sd* shared by scsi and sata, hd* for ide", () => {
    expect(targets([disk("a", "virtio"), disk("b", "sata"), disk("c", "virtio"), disk("d", "scsi"), disk("e", "ide")])).toStrictEqual([
      "vda",
      "sda",
      "vdb",
      "sdb",
      "hda",
    ]);
  });

  test("explicit targets are kept and skipped, wherever they appear", () => {
    expect(targets([disk("a", "virtio"), disk("b", "virtio", "vda"), disk("c", "virtio")])).toStrictEqual(["vdb", "vda", "vdc"]);
  });

  test("names already used on a running VM are skipped (hot-plug)", () => {
    expect(targets([disk("new", "virtio")], ["vda", "vdb", "sda"])).toStrictEqual(["vdc"]);
  });

  test("past z comes aa, like libvirt", () => {
    const many = Array.from({ length: 28 }, (_, i) => disk(`d${i}`, "virtio"));
    expect(targets(many).slice(24)).toStrictEqual(["vdy", "vdz", "vdaa", "vdab"]);
  });

  test("on q35 IDE disks are named like the SATA disks they become, sharing sd* with scsi and sata", () => {
    expect(targets([disk("a", "ide"), disk("b", "sata"), disk("c", "ide")], [], "q35")).toStrictEqual(["sda", "sdb", "sdc"]);
    expect(
      targets(
        [1, 2, 3, 4, 5].map((i) => disk(`${i}`, "ide")),
        [],
        "pc-q35-8.2",
      ),
    ).toHaveLength(5);
    expect(nextTarget("ide", [disk("a", "sata", "sda")], "q35")).toBe("sdb");
    expect(nextTarget("ide", [disk("a", "sata", "sda")])).toBe("hda");
  });

  test("IDE has four devices, then it is exhausted", () => {
    expect(targets([1, 2, 3, 4].map((i) => disk(`${i}`, "ide")))).toStrictEqual(["hda", "hdb", "hdc", "hdd"]);
    expect(() => assignDiskTargets([1, 2, 3, 4, 5].map((i) => disk(`${i}`, "ide")))).toThrow("no free ide device name");
  });

  test("a duplicate explicit target is an invalid argument; the input is not mutated", () => {
    expect(() => assignDiskTargets([disk("a", "virtio", "vda"), disk("b", "virtio", "vda")])).toThrow("used twice");
    const input = [disk("a", "virtio")];
    assignDiskTargets(input);
    expect(input[0]?.target).toBeUndefined();
  });
});

describe("user aliases", () => {
  test("plain ids stay readable; others are escaped to libvirt's alias alphabet", () => {
    expect(encodeAliasId("root-1")).toBe("root-1");
    expect(encodeAliasId("data_2")).toBe("data_5f2");
    expect(encodeAliasId("ü/ ")).toBe("_c3_bc_2f_20");
  });

  test("decode(encode(id)) is the id, and the encoding uses only [A-Za-z0-9_-]", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 20 }), (id) => {
        const encoded = encodeAliasId(id);
        expect(encoded).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(decodeAliasId(encoded)).toBe(id);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  test("a malformed encoding is not an id", () => {
    expect(decodeAliasId("a_zz")).toBeUndefined();
    expect(decodeAliasId("a_4")).toBeUndefined();
    expect(decodeAliasId("a.b")).toBeUndefined();
    expect(decodeAliasId("_ff")).toBeUndefined(); // not UTF-8
  });
});

describe("PCI addresses", () => {
  test("parse and format", () => {
    expect(parsePciAddress("0000:0a:1f.7", "f")).toStrictEqual({ domain: 0, bus: 10, slot: 31, function: 7 });
    expect(formatPciAddress(parsePciAddress("01:00.1", "f"))).toBe("0000:01:00.1");
    expect(formatPciAddress(parsePciAddress("ABCD:FF:00.0", "f"))).toBe("abcd:ff:00.0");
  });

  for (const bad of ["", "0000:01:00", "0000:01:20.0", "0000:01:00.8", "0000:001:00.0", "x000:01:00.0"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      expect(() => parsePciAddress(bad, "spec.host_devices[0].pci_address")).toThrow("expected a PCI address");
    });
  }
});

describe("device XML for hot-plug", () => {
  test("a disk looks exactly like the one in a domain", () => {
    expect(
      buildDiskDeviceXml({ ...disk("data", "scsi", "sdc"), resolvedPath: "/img/data.qcow2", bootOrder: 3 }, "qcow2"),
    ).toBe(`<disk type="file" device="disk">
  <driver name="qemu" type="qcow2" cache="none" io="native" discard="unmap"/>
  <source file="/img/data.qcow2"/>
  <target dev="sdc" bus="scsi"/>
  <boot order="3"/>
  <alias name="ua-disk-data"/>
</disk>
`);
  });

  test("a host block device is type='block' with <source dev>, and reads back as the same path", () => {
    const xml = buildDiskDeviceXml({ ...disk("lv", "virtio", "vdb"), path: "/dev/vg0/lv", resolvedPath: "/dev/vg0/lv" }, "raw");
    expect(xml).toContain(`<disk type="block" device="disk">`);
    expect(xml).toContain(`<source dev="/dev/vg0/lv"/>`);
    const input = profiles["minimal-bios"]!;
    const spec = { ...minimalSpec, disks: [{ ...minimalSpec.disks[0]!, path: "/dev/sdz", resolvedPath: "/dev/sdz" }] };
    expect(parseDomainXml(buildDomainXml({ ...input, spec })).spec.disks[0]?.path).toBe("/dev/sdz");
  });

  const refused: [string, Partial<DiskSpec>, string | undefined, string][] = [
    ["a virtio cdrom", { device: "cdrom", bus: "virtio" }, "q35", "spec.disks[0].bus"],
    ["a read-only sata disk", { readonly: true, bus: "sata" }, "q35", "spec.disks[0].readonly"],
    ["a read-only ide disk (sata on q35)", { readonly: true, bus: "ide" }, "pc-q35-7.2", "spec.disks[0].readonly"],
  ];
  for (const [name, patch, machine, field] of refused) {
    test(`refuses ${name} with the field at fault`, () => {
      const input = profiles["minimal-bios"]!;
      const spec = { ...minimalSpec, disks: [{ ...minimalSpec.disks[0]!, ...patch }] };
      expect(() => buildDomainXml({ ...input, machine, spec })).toThrow(field);
    });
  }

  test("an ide disk is fine on the pc machine", () => {
    const input = profiles["minimal-bios"]!;
    const spec = { ...minimalSpec, disks: [{ ...minimalSpec.disks[0]!, bus: "ide" as const }] };
    expect(buildDomainXml({ ...input, machine: "pc", spec })).toContain(`<target dev="hda" bus="ide"/>`);
  });

  test("q35 has no IDE: an ide disk or cdrom is put on sata, and reads back as asked for", () => {
    const input = profiles["minimal-bios"]!;
    const cdrom: DiskSpec = { id: "iso", path: "/iso/a.iso", resolvedPath: "/iso/a.iso", bus: "ide", bootOrder: 0, readonly: true, device: "cdrom" };
    const spec = { ...minimalSpec, disks: [{ ...minimalSpec.disks[0]!, bus: "ide" as const }, cdrom] };
    for (const machine of ["q35", "pc-q35-7.2"]) {
      const xml = buildDomainXml({ ...input, machine, spec });
      expect(xml).toContain(`<target dev="sda" bus="sata"/>`);
      expect(xml).toContain(`<target dev="sdb" bus="sata"/>`);
      expect(xml).not.toMatch(/<target [^>]*bus="ide"/);
      expect(parseDomainXml(xml).spec.disks.map((d) => [d.bus, d.target])).toStrictEqual([
        ["ide", "sda"],
        ["ide", "sdb"],
      ]);
    }
    expect(busOnMachine("ide", "q35")).toBe("sata");
    expect(busOnMachine("ide", "pc-i440fx-7.2")).toBe("ide");
    expect(busOnMachine("ide", undefined)).toBe("ide");
    expect(busOnMachine("virtio", "q35")).toBe("virtio");
  });

  test("a disk needs its target", () => {
    expect(() => buildDiskDeviceXml(disk("x", "virtio"), "raw")).toThrow("no guest device name");
  });

  test("a NIC on a network", () => {
    expect(buildNicDeviceXml({ id: "eth1", network: "default", mac: "52:54:00:00:00:02", model: "e1000" })).toBe(`<interface type="network">
  <mac address="52:54:00:00:00:02"/>
  <source network="default"/>
  <model type="e1000"/>
  <alias name="ua-nic-eth1"/>
</interface>
`);
  });

  test("a NIC needs exactly one of bridge and network", () => {
    expect(() => buildNicDeviceXml({ id: "x", model: "virtio" })).toThrow("exactly one of bridge and network");
    expect(() => buildNicDeviceXml({ id: "x", bridge: "b", network: "n", model: "virtio" })).toThrow("exactly one");
  });
});

describe("storage XML", () => {
  test("a qcow2 volume on a backing image", () => {
    expect(buildVolumeXml({ name: "vm-root.qcow2", sizeBytes: 10737418240, format: "qcow2", backingPath: "/img/base.qcow2" })).toBe(`<volume>
  <name>vm-root.qcow2</name>
  <capacity unit="bytes">10737418240</capacity>
  <allocation unit="bytes">0</allocation>
  <target>
    <format type="qcow2"/>
  </target>
  <backingStore>
    <path>/img/base.qcow2</path>
    <format type="qcow2"/>
  </backingStore>
</volume>
`);
  });

  test("a raw volume, and a dir pool", () => {
    expect(buildVolumeXml({ name: "d.raw", sizeBytes: 1048576, format: "raw" })).toContain(`<format type="raw"/>`);
    expect(buildVolumeXml({ name: "d.raw", sizeBytes: 1, format: "raw" })).not.toContain("backingStore");
    expect(buildDirPoolXml({ name: "limiquantix", path: "/var/lib/limiquantix/vms" })).toBe(`<pool type="dir">
  <name>limiquantix</name>
  <target>
    <path>/var/lib/limiquantix/vms</path>
  </target>
</pool>
`);
  });
});

describe("typed model round trip", () => {
  for (const [name, input] of Object.entries(profiles)) {
    test(`${name}: XML read into the model and written back is unchanged`, () => {
      const xml = buildDomainXml(input);
      expect(serializeXml(writeDomain(readDomain(parseXml(xml, name))))).toBe(xml);
    });
  }

  test("the libvirt-returned fixture's model is stable under write and read", () => {
    const xml = readFileSync(join(import.meta.dir, "fixtures", "virsh-dumpxml-running-vnc.xml"), "utf8");
    const model = readDomain(parseXml(xml, "fixture"));
    expect(readDomain(parseXml(serializeXml(writeDomain(model)), "again"))).toEqual(model);
  });

  test("other sections: no graphics when the console is none, UEFI needs firmware on the node", () => {
    const input = profiles["minimal-bios"]!;
    const none = buildDomainXml({ ...input, spec: { ...minimalSpec, console: { type: "none" } } });
    expect(none).not.toContain("<graphics");
    expect(none).not.toContain("<video");
    expect(() => buildDomainXml({ ...input, spec: { ...minimalSpec, firmware: "uefi" } })).toThrow("no UEFI firmware is configured");
  });

  test("UEFI without secure boot: secure='no', no SMM, no NVRAM template when none is given", () => {
    const input = profiles["minimal-bios"]!;
    const def = readDomain(
      parseXml(
        buildDomainXml({
          ...input,
          spec: { ...minimalSpec, firmware: "uefi" },
          uefi: { loaderPath: "/fw/CODE.fd", nvramPath: "/nv/x_VARS.fd" },
        }),
        "uefi",
      ),
    );
    expect([def.os, def.features]).toEqual([
      {
        machine: "q35",
        loader: { path: "/fw/CODE.fd", readonly: "yes", type: "pflash", secure: "no" },
        nvram: { path: "/nv/x_VARS.fd" },
      },
      { acpi: true, apic: true },
    ]);
  });
});
