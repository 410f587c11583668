// Domains with disks that are volumes of a Ceph RBD, an iSCSI and an LVM pool: the XML libvirt is
// told (golden files: an RBD image over the network with its monitors and ceph secret, a LUN and
// a logical volume as block devices), checked against libvirt's schema when virt-xml-validate is
// installed, and read back to the same spec (pool id and volume name from our metadata).
// Regenerate with UPDATE_GOLDEN=1 bun test <this file>, then read the diff.

import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { specsEqual } from "../../../../src/hypervisor/defaults.ts";
import { buildDiskDeviceXml, buildDomainXml, parseDomainXml, type DomainBuildInput } from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import type { NetworkDiskSourceDef } from "../../../../src/hypervisor/libvirt/domain-xml/model.ts";
import type { DiskSpec } from "../../../../src/hypervisor/types.ts";
import { minimalSpec } from "./profiles.ts";

const DIR = join(import.meta.dir, "golden-volume-disks");
const update = process.env.UPDATE_GOLDEN === "1";
const validator = Bun.which("virt-xml-validate") && Bun.which("xmllint");
/** The golden file without the indentation between elements. */
const compact = (name: string) => readFileSync(join(DIR, `${name}.xml`), "utf8").replace(/>\s+</g, "><");

const ceph: NetworkDiskSourceDef = {
  protocol: "rbd",
  hosts: [
    { name: "10.0.0.11", port: 6789 },
    { name: "mon2.ceph.example", port: 3300 },
  ],
  auth: { username: "libvirt", secretType: "ceph", secretUuid: "9f0c5a4e-7b1d-4c2e-8a3f-1b2c3d4e5f60" },
};

const disk = (id: string, pool: string, resolvedPath: string, extra: Partial<DiskSpec> = {}): DiskSpec => ({
  id,
  pool,
  resolvedPath,
  bus: "virtio",
  bootOrder: 0,
  readonly: false,
  device: "disk",
  ...extra,
});

function input(name: string, disks: DiskSpec[], networks?: Record<string, NetworkDiskSourceDef>): DomainBuildInput {
  return {
    id: "5b0a7d7e-3c1f-4e8a-9d2b-6f4e3c2b1a09",
    spec: { ...minimalSpec, name, disks },
    domainType: "kvm",
    consoleListen: "127.0.0.1",
    createdAt: new Date("2026-12-04T20:00:00.000Z"),
    diskFormats: Object.fromEntries(disks.map((d) => [d.id, "raw"])),
    ...(networks ? { diskNetworks: networks } : {}),
  };
}

const cases: Record<string, DomainBuildInput> = {
  // A new disk (the control plane sends qcow2; the pool holds raw images) and an existing volume by name.
  rbd: input(
    "rbd-vm",
    [
      disk("root", "ceph-ssd", "vms/5b0a7d7e-3c1f-4e8a-9d2b-6f4e3c2b1a09-root", {
        bootOrder: 1,
        newImage: { sizeBytes: 10 * 2 ** 30, format: "qcow2", backingPath: "debian-12" },
      }),
      disk("data", "ceph-ssd", "vms/data-1", { volume: "data-1" }),
    ],
    { root: ceph, data: ceph },
  ),
  iscsi: input("iscsi-vm", [
    disk("root", "san-lun", "/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2026-01.com.example:vms-lun-1", { volume: "unit:0:0:1", bootOrder: 1 }),
  ]),
  logical: input("lvm-vm", [
    disk("root", "san-vg", "/dev/vg_vms/lvm-root", { volume: "lvm-root", bootOrder: 1, newImage: { sizeBytes: 8 * 2 ** 30, format: "raw" } }),
  ]),
};

describe("volume disks of RBD, iSCSI and LVM pools", () => {
  for (const [name, inp] of Object.entries(cases)) {
    const file = join(DIR, `${name}.xml`);
    test(`${name}: built XML matches golden-volume-disks/${name}.xml`, () => {
      const xml = buildDomainXml(inp);
      if (update) writeFileSync(file, xml);
      expect(xml).toBe(readFileSync(file, "utf8"));
    });

    test(`${name}: reads back to the same disks (pool id, volume name, source)`, () => {
      const parsed = parseDomainXml(readFileSync(file, "utf8"));
      expect(parsed.spec.disks.map(({ target: _t, ...d }) => d)).toEqual(inp.spec.disks);
      expect(specsEqual({ ...inp.spec, console: parsed.spec.console }, parsed.spec)).toBe(true);
    });

    test.skipIf(!validator)(`${name}: libvirt's schema accepts it`, () => {
      const r = Bun.spawnSync(["virt-xml-validate", file, "domain"]);
      expect(r.stderr.toString() + r.stdout.toString()).toContain("validates");
    });
  }

  test("rbd: a network disk with librbd's writeback cache, auth and every monitor; no io=native", () => {
    const xml = compact("rbd");
    expect(xml).toContain(`<disk type="network" device="disk">`);
    expect(xml).toContain(`<auth username="libvirt"><secret type="ceph" uuid="${ceph.auth?.secretUuid}"/></auth>`);
    expect(xml).toContain(`<source protocol="rbd" name="vms/data-1"><host name="10.0.0.11" port="6789"/><host name="mon2.ceph.example" port="3300"/></source>`);
    expect(xml).toContain(`<driver name="qemu" type="raw" cache="writeback" discard="unmap"/>`);
  });

  test("iscsi and logical: block disks by the volume's device path", () => {
    expect(compact("iscsi")).toContain(
      `<disk type="block" device="disk"><driver name="qemu" type="raw" cache="none" io="native" discard="unmap"/><source dev="/dev/disk/by-path/ip-192.0.2.10:3260-iscsi-iqn.2026-01.com.example:vms-lun-1"/>`,
    );
    expect(compact("logical")).toContain(`<source dev="/dev/vg_vms/lvm-root"/>`);
  });

  test("hot-plug XML of an RBD disk carries the same source and auth", () => {
    const d = { ...(cases.rbd?.spec.disks[1] as DiskSpec), target: "vdc" };
    const xml = buildDiskDeviceXml(d, "raw", undefined, ceph);
    expect(xml).toContain(`<source protocol="rbd" name="vms/data-1">`);
    expect(xml).toContain(`<secret type="ceph" uuid="${ceph.auth?.secretUuid}"/>`);
  });
});
