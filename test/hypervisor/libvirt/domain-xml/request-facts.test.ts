import { cloudInitDigest } from "../../../../src/hypervisor/defaults.ts";
// The new request facts: volumes and pools, I/O and bandwidth limits, NIC boot order, a fixed
// console port, cloud-init data and the guest_os name. What they write, and that the spec reads
// back as asked (specsEqual, CreateVM's idempotency check, holds).

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { isNodeCdrom, specsEqual, withDefaults } from "../../../../src/hypervisor/defaults.ts";
import {
  buildDiskDeviceXml,
  buildDomainDef,
  buildDomainXml,
  buildMetadataXml,
  buildNicDeviceXml,
  parseDomainXml,
} from "../../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { illegalXmlChar } from "../../../../src/hypervisor/libvirt/domain-xml/xml-tree.ts";
import type { DiskSpec, VmSpec } from "../../../../src/hypervisor/types.ts";
import { expectedSpec, limitsSpec, minimalSpec, profiles } from "./profiles.ts";

const limits = profiles["limits-cloud-init"]!;
const minimal = profiles["minimal-bios"]!;
const withListen = (spec: VmSpec): VmSpec => ({ ...spec, console: { ...spec.console, listen: spec.console.listen ?? "127.0.0.1" } });

describe("limits in the domain", () => {
  test("iotune: IOPS as given, MB/s as bytes per second; none without a limit", () => {
    const disks = buildDomainDef(limits).devices.disks;
    expect(disks.map((d) => d.iotune)).toStrictEqual([{ totalBytesSec: 200_000_000, totalIopsSec: 5000 }, { totalIopsSec: 250 }, undefined]);
    const zero = buildDomainDef({ ...minimal, spec: { ...minimalSpec, disks: [{ ...minimalSpec.disks[0]!, iopsLimit: 0, throughputMbps: 0 }] } });
    expect(zero.devices.disks[0]?.iotune).toBeUndefined();
  });

  test("bandwidth: Mbps x 125 KB/s both ways; boot order on the interface", () => {
    expect(buildDomainDef(limits).devices.interfaces.map((i) => [i.bandwidth, i.bootOrder])).toStrictEqual([
      [{ inbound: 125_000, outbound: 125_000 }, 2],
      [{ inbound: 1250, outbound: 1250 }, undefined],
    ]);
  });

  test("a fixed console port: autoport off; port 0 or none: libvirt allocates", () => {
    expect(buildDomainDef(limits).devices.graphics[0]).toMatchObject({ port: 5905, autoport: false });
    for (const port of [0, undefined]) {
      const def = buildDomainDef({ ...minimal, spec: { ...minimalSpec, console: { type: "vnc", ...(port === undefined ? {} : { port }) } } });
      expect(def.devices.graphics[0]).toMatchObject({ port: -1, autoport: true });
    }
  });

  test("hot-plug device XML carries the limits too", () => {
    const disk: DiskSpec = { ...limitsSpec.disks[0]!, target: "vdc" };
    expect(buildDiskDeviceXml(disk, "qcow2")).toContain(
      "<iotune>\n    <total_bytes_sec>200000000</total_bytes_sec>\n    <total_iops_sec>5000</total_iops_sec>\n  </iotune>",
    );
    expect(buildNicDeviceXml(limitsSpec.nics[0]!)).toBe(`<interface type="bridge">
  <mac address="52:54:00:a0:00:01"/>
  <source bridge="br0"/>
  <model type="virtio"/>
  <bandwidth>
    <inbound average="125000"/>
    <outbound average="125000"/>
  </bandwidth>
  <boot order="2"/>
  <alias name="ua-nic-eth0"/>
</interface>
`);
  });
});

describe("reading back", () => {
  test("the limits profile reads back as asked, and specsEqual agrees", () => {
    const parsed = parseDomainXml(buildDomainXml(limits));
    expect(parsed.spec).toStrictEqual(expectedSpec(limits, ["vda", "vdb", "sda"]));
    expect(specsEqual(withListen(limitsSpec), parsed.spec)).toBe(true);
  });

  test("a volume disk has no path; a volume CD-ROM neither; an empty drive neither", () => {
    const disks = parseDomainXml(buildDomainXml(profiles["windows-server-kvm"]!)).spec.disks;
    expect(disks.map((d) => [d.id, d.path, d.volume, d.resolvedPath])).toStrictEqual([
      ["c", "/var/lib/limiquantix/images/win-2022-c.qcow2", undefined, "/var/lib/limiquantix/images/win-2022-c.qcow2"],
      ["install", undefined, "iso/windows-server-2022.iso", "/var/lib/limiquantix/pools/isos/iso/windows-server-2022.iso"],
      ["drivers", undefined, undefined, undefined],
    ]);
  });

  test("libvirt XML written by hand: one bandwidth direction, other iotune limits, odd figures", () => {
    const xml = buildDomainXml(minimal)
      .replace(
        `<target dev="vda" bus="virtio"/>`,
        `<target dev="vda" bus="virtio"/><iotune><read_bytes_sec>5</read_bytes_sec><total_bytes_sec>1500000</total_bytes_sec></iotune>`,
      )
      .replace(
        "<serial ",
        `<interface type="network"><mac address="52:54:00:00:00:09"/><source network="default"/><bandwidth><outbound average="250"/></bandwidth><boot order="3"/></interface><serial `,
      );
    const spec = parseDomainXml(xml).spec;
    expect(spec.disks[0]?.throughputMbps).toBe(1.5);
    expect(spec.disks[0]?.iopsLimit).toBeUndefined();
    expect(spec.nics).toStrictEqual([{ id: "525400000009", network: "default", mac: "52:54:00:00:00:09", model: "virtio", bandwidthMbps: 2, bootOrder: 3 }]);
  });

  test("metadata replaced after a change (buildMetadataXml) keeps every request fact", () => {
    const meta = buildMetadataXml(
      {
        ...limitsSpec,
        disks: [...limitsSpec.disks, { id: "old", path: "/img/o", resolvedPath: "/img/o", bus: "ide", bootOrder: 0, readonly: false, device: "disk" }],
      },
      new Date(0),
    );
    expect(meta).toContain(`<disk id="root" volume="app-1-root.qcow2" pool="nvme-0"/>`);
    expect(meta).toContain(`<disk id="old" bus="ide"/>`);
    expect(meta).toContain(`<guest-os name="rhel"/>`);
    expect(meta).toContain(`<cloud-init sha256="${cloudInitDigest(limitsSpec.cloudInit!)}"/>`);
    expect(meta).not.toContain("network-config");
    // On a pc machine IDE stays IDE: nothing to remember.
    expect(buildMetadataXml({ ...minimalSpec, disks: [{ ...minimalSpec.disks[0]!, bus: "ide" }] }, new Date(0), "pc")).not.toContain("bus=");
  });
});

describe("specsEqual with the new fields", () => {
  const base = withDefaults({ name: "a", memoryMib: 512, disks: [{ id: "root", volume: "r.qcow2", pool: "p" }], nics: [{ id: "n", bridge: "br0" }] });

  test("0 equals unset for limits, NIC boot order and the console port; the node's CD-ROM is not compared", () => {
    const zeros = structuredClone(base);
    Object.assign(zeros.disks[0]!, { iopsLimit: 0, throughputMbps: 0 });
    Object.assign(zeros.nics[0]!, { bandwidthMbps: 0, bootOrder: 0 });
    zeros.console.port = 0;
    expect(specsEqual(base, zeros)).toBe(true);
    const withNodeCdrom = {
      ...base,
      disks: [...base.disks, { id: "cloud-init", path: "/x.iso", bus: "sata" as const, bootOrder: 0, readonly: true, device: "cdrom" as const }],
    };
    expect(isNodeCdrom(withNodeCdrom.disks[1]!)).toBe(true);
    expect(specsEqual(base, withNodeCdrom)).toBe(true);
  });

  test("real differences in the new fields are seen", () => {
    const changed = (patch: (s: VmSpec) => void) => {
      const s = structuredClone(base);
      patch(s);
      return specsEqual(base, s);
    };
    expect(changed((s) => (s.disks[0]!.volume = "other.qcow2"))).toBe(false);
    expect(changed((s) => (s.disks[0]!.pool = "q"))).toBe(false);
    expect(changed((s) => (s.disks[0]!.iopsLimit = 10))).toBe(false);
    expect(changed((s) => (s.nics[0]!.bandwidthMbps = 10))).toBe(false);
    expect(changed((s) => (s.nics[0]!.bootOrder = 1))).toBe(false);
    expect(changed((s) => (s.console.port = 5901))).toBe(false);
    expect(changed((s) => (s.guestOs = "debian"))).toBe(false);
    expect(changed((s) => (s.cpu.mode = "maximum"))).toBe(false);
    expect(changed((s) => (s.cloudInit = { userData: "", metaData: "", networkConfig: "", vendorData: "" }))).toBe(false);
    // A disk a caller named cloud-init (refused by validation) is still compared.
    expect(changed((s) => s.disks.push({ id: "cloud-init", path: "/x", bus: "virtio", bootOrder: 0, readonly: false, device: "disk" }))).toBe(false);
  });
});

// XML 1.0 text, biased towards markup, whitespace (alone too: libvirt must not drop it) and non-ASCII.
const xmlChar = fc.oneof(
  fc.constantFrom("<", ">", "&", '"', "'", "\t", "\n", "\r", " ", "]", "#", ";", "é", "😀"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => illegalXmlChar(c) === undefined),
);
const xmlText = fc.string({ unit: xmlChar, maxLength: 40 });

describe("round trip property", () => {
  test("any cloud-init text (as its digest), volume, pool, limits, port and profile name come back unchanged", () => {
    fc.assert(
      fc.property(
        fc.record({ userData: xmlText, metaData: xmlText, networkConfig: xmlText, vendorData: xmlText }),
        xmlText.filter((s) => s !== ""),
        fc.option(
          xmlText.filter((s) => s !== ""),
          { nil: undefined },
        ),
        fc.record({ iops: fc.nat(10_000_000), mbps: fc.nat(1_000_000), bw: fc.nat(1_000_000), boot: fc.nat(999) }),
        fc.option(fc.integer({ min: 5900, max: 65535 }), { nil: undefined }),
        xmlText,
        (cloudInit, volume, pool, n, port, guestOs) => {
          const disk: DiskSpec = {
            ...minimalSpec.disks[0]!,
            path: undefined,
            volume,
            ...(pool === undefined ? {} : { pool }),
            ...(n.iops > 0 ? { iopsLimit: n.iops } : {}),
            ...(n.mbps > 0 ? { throughputMbps: n.mbps } : {}),
          };
          delete disk.path;
          const spec: VmSpec = {
            ...minimalSpec,
            disks: [disk],
            nics: [
              {
                id: "n",
                bridge: "br0",
                mac: "52:54:00:00:00:01",
                model: "virtio",
                ...(n.bw > 0 ? { bandwidthMbps: n.bw } : {}),
                ...(n.boot > 1 ? { bootOrder: n.boot } : {}),
              },
            ],
            console: { type: "vnc", listen: "::1", ...(port === undefined ? {} : { port }) },
            cloudInit,
            guestOs,
          };
          const parsed = parseDomainXml(buildDomainXml({ ...minimal, spec }));
          const readBackCloudInit = { userData: "", metaData: "", networkConfig: "", vendorData: "", digest: cloudInitDigest(cloudInit) };
          expect(parsed.spec).toStrictEqual({ ...spec, disks: [{ ...disk, target: "vda" }], cloudInit: readBackCloudInit });
          expect(specsEqual(spec, parsed.spec)).toBe(true);
        },
      ),
      { numRuns: 150, seed: 7171 },
    );
  });
});
