// The contract's CreateVM request (name, labels, flat VMSpec) read into the hypervisor model:
// what the node fills in (ids, boot order, console, the default NIC and network, cloud-init),
// how a disk's path is read (absolute path or volume), and refusals that name the wire field.

import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { describe, expect, test } from "bun:test";
import {
  BootDevice,
  type ConsoleSpecSchema,
  CpuMode,
  type CreateVMOnNodeRequest,
  CreateVMOnNodeRequestSchema,
  DiskBus,
  DiskFormat,
  type DiskSpecSchema,
  Firmware,
  NicModel,
  type VMSpecSchema,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { VmSpec } from "../../src/hypervisor/types.ts";
import { diskFromWire, vmSpecFromWire, vmSpecToWire } from "../../src/server/convert/vm-spec.ts";

const DEFAULTS = { defaultNetwork: "lq-default" };
const GIB = 2 ** 30;

type SpecInit = Exclude<MessageInitShape<typeof VMSpecSchema>, { $typeName: string }>;
type TopInit = Omit<Exclude<MessageInitShape<typeof CreateVMOnNodeRequestSchema>, { $typeName: string }>, "spec">;

function request(spec: SpecInit = {}, top: TopInit = {}): CreateVMOnNodeRequest {
  return create(CreateVMOnNodeRequestSchema, { name: "vm-1", spec: { cpuCores: 1, memoryMib: 512n, ...spec }, ...top });
}

const fromWire = (spec: SpecInit = {}, top: TopInit = {}): VmSpec => vmSpecFromWire(request(spec, top), DEFAULTS);

/** The INVALID_ARGUMENT message a request gets, or "accepted". */
function refusal(spec: SpecInit): string {
  try {
    fromWire(spec);
    return "accepted";
  } catch (err) {
    return `${ConnectError.from(err).code} ${ConnectError.from(err).rawMessage}`;
  }
}

/** [id, device, bootOrder] of every disk and CD-ROM, and [id, bootOrder] of every NIC. */
const boot = (s: VmSpec) => ({
  disks: s.disks.map((d) => [d.id, d.device, d.bootOrder]),
  nics: s.nics.map((n) => [n.id, n.bootOrder ?? 0]),
});

describe("boot order", () => {
  const twoDisks = [
    { id: "a", sizeGib: 1n },
    { id: "b", sizeGib: 1n },
  ];
  const twoCdroms = [{ id: "c1" }, { id: "c2" }];

  test.each<[string, SpecInit, ReturnType<typeof boot>]>([
    [
      "none given: the first disk, then the first CD-ROM",
      { disks: twoDisks, cdroms: twoCdroms },
      {
        disks: [
          ["a", "disk", 1],
          ["b", "disk", 0],
          ["c1", "cdrom", 2],
          ["c2", "cdrom", 0],
        ],
        nics: [["nic0", 0]],
      },
    ],
    [
      "a bootable CD-ROM boots first, then the first disk",
      { disks: twoDisks, cdroms: [{ id: "c1" }, { id: "c2", bootable: true }] },
      {
        disks: [
          ["a", "disk", 2],
          ["b", "disk", 0],
          ["c1", "cdrom", 0],
          ["c2", "cdrom", 1],
        ],
        nics: [["nic0", 0]],
      },
    ],
    [
      "bootable disks boot in their order, before the CD-ROM",
      {
        disks: [
          { id: "a", sizeGib: 1n },
          { id: "b", sizeGib: 1n, bootable: true },
          { id: "c", sizeGib: 1n, bootable: true },
        ],
        cdroms: [{ id: "c1" }],
      },
      {
        disks: [
          ["a", "disk", 0],
          ["b", "disk", 1],
          ["c", "disk", 2],
          ["c1", "cdrom", 3],
        ],
        nics: [["nic0", 0]],
      },
    ],
    [
      "explicit: network, then disk (the CD-ROM class not asked for)",
      { disks: twoDisks, cdroms: twoCdroms, nics: [{ id: "eth0", network: "lan" }], bootOrder: [BootDevice.NETWORK, BootDevice.DISK] },
      {
        disks: [
          ["a", "disk", 2],
          ["b", "disk", 0],
          ["c1", "cdrom", 0],
          ["c2", "cdrom", 0],
        ],
        nics: [["eth0", 1]],
      },
    ],
    [
      "explicit: CD-ROM, disk, network, with repeats taken once",
      { disks: twoDisks, cdroms: twoCdroms, bootOrder: [BootDevice.CDROM, BootDevice.DISK, BootDevice.CDROM, BootDevice.NETWORK] },
      {
        disks: [
          ["a", "disk", 2],
          ["b", "disk", 0],
          ["c1", "cdrom", 1],
          ["c2", "cdrom", 0],
        ],
        nics: [["nic0", 3]],
      },
    ],
    [
      "explicit network boot with no NIC given uses the node's default NIC",
      { disks: twoDisks, bootOrder: [BootDevice.NETWORK] },
      {
        disks: [
          ["a", "disk", 0],
          ["b", "disk", 0],
        ],
        nics: [["nic0", 1]],
      },
    ],
    ["no devices at all: nothing to boot, nothing refused", {}, { disks: [], nics: [["nic0", 0]] }],
  ])("%s", (_name, spec, want) => {
    expect(boot(fromWire(spec))).toEqual(want);
  });

  test("an unknown boot device is refused naming its index", () => {
    expect(refusal({ bootOrder: [BootDevice.DISK, 7 as BootDevice] })).toBe("3 spec.boot_order[1]: unknown value 7; allowed: disk, cdrom, network");
  });
});

describe("console", () => {
  test.each<[string, MessageInitShape<typeof ConsoleSpecSchema> | undefined, VmSpec["console"]]>([
    ["absent: a VNC console (the control plane sends none without a display)", undefined, { type: "vnc" }],
    ["present with neither enabled: no console", { listen: "0.0.0.0" }, { type: "none" }],
    [
      "VNC with a port, password and listen address",
      { vncEnabled: true, vncPort: 5905, vncPassword: "pw", listen: "0.0.0.0" },
      { type: "vnc", port: 5905, password: "pw", listen: "0.0.0.0" },
    ],
    ["SPICE, its port, the one password field", { spiceEnabled: true, spicePort: 5930, vncPassword: "pw" }, { type: "spice", port: 5930, password: "pw" }],
    ["VNC port 0: allocated when the VM starts", { vncEnabled: true }, { type: "vnc" }],
  ])("%s", (_name, console, want) => {
    expect(fromWire({ console }).console).toEqual(want);
  });

  test("both VNC and SPICE is INVALID_ARGUMENT naming spec.console", () => {
    expect(refusal({ console: { vncEnabled: true, spiceEnabled: true } })).toMatch(/^3 spec\.console: enable one of vnc_enabled and spice_enabled/);
  });
});

describe("cloud-init", () => {
  const empty = { userData: "", metaData: "", networkConfig: "", vendorData: "" };
  test.each<[string, SpecInit, VmSpec["cloudInit"]]>([
    ["absent, no backing file: none", { disks: [{ id: "root", sizeGib: 10n }] }, undefined],
    ["present but empty, no backing file: none", { cloudInit: {} }, undefined],
    ["user data: kept verbatim (no base64 decoding)", { cloudInit: { userData: "I2Nsb3VkLWNvbmZpZw==" } }, { ...empty, userData: "I2Nsb3VkLWNvbmZpZw==" }],
    ["only network config: still given", { cloudInit: { networkConfig: "version: 2" } }, { ...empty, networkConfig: "version: 2" }],
    ["no data but a disk on a backing file (a cloud image waits for a datasource)", { disks: [{ id: "root", backingFile: "debian-12" }] }, empty],
  ])("%s", (_name, spec, want) => {
    expect(fromWire(spec).cloudInit).toEqual(want);
  });
});

describe("ids, NICs and networks the node fills in", () => {
  test("empty ids become disk<i>, cdrom-<i>, nic<i>, each list counted on its own", () => {
    const s = fromWire({
      disks: [{ sizeGib: 1n }, { id: "data", sizeGib: 1n }, { sizeGib: 1n }],
      cdroms: [{}, { id: "tools" }, {}],
      nics: [{ network: "lan" }, { id: "mgmt", network: "lan" }, { network: "lan" }],
    });
    expect(s.disks.map((d) => d.id)).toEqual(["disk0", "data", "disk2", "cdrom-0", "tools", "cdrom-2"]);
    expect(s.nics.map((n) => n.id)).toEqual(["nic0", "mgmt", "nic2"]);
  });

  test("no NIC: one virtio NIC on the node's default network", () => {
    expect(fromWire({}).nics).toEqual([{ id: "nic0", network: "lq-default", model: "virtio" }]);
  });

  test.each([
    ["a control plane UUID", "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20", "lq-default"],
    ["a control plane net- id", "net-prod-42", "lq-default"],
    ["an operator's libvirt network", "lan", "lan"],
    ["nothing", "", "lq-default"],
  ])("network %s -> %s", (_name, network, want) => {
    expect(fromWire({ nics: [{ id: "eth0", network }] }).nics[0]!.network).toBe(want);
  });

  test("a bridge wins over a network; MACs are lower-cased", () => {
    expect(fromWire({ nics: [{ id: "eth0", bridge: "br0", network: "lan", macAddress: "52:54:00:AA:BB:CC" }] }).nics[0]).toEqual({
      id: "eth0",
      bridge: "br0",
      mac: "52:54:00:aa:bb:cc",
      model: "virtio",
    });
  });
});

describe("where a disk's image is", () => {
  test.each<[string, MessageInitShape<typeof DiskSpecSchema>, object]>([
    ["an absolute path: that file", { id: "d", path: "/srv/vms/a.qcow2" }, { path: "/srv/vms/a.qcow2" }],
    ["an absolute path with a size: the file, nothing created", { id: "d", path: "/srv/vms/a.qcow2", sizeGib: 10n }, { path: "/srv/vms/a.qcow2" }],
    ["a name: a volume of the pool (the control plane's volume_id)", { id: "d", path: "vol-7", poolId: "ssd" }, { volume: "vol-7", pool: "ssd" }],
    [
      "a name with a size: that volume, created when missing",
      { id: "d", path: "vol-7", sizeGib: 2n },
      { volume: "vol-7", newImage: { sizeBytes: 2 * GIB, format: "qcow2" } },
    ],
    ["a size alone: a new image", { id: "d", sizeGib: 20n, format: DiskFormat.RAW }, { newImage: { sizeBytes: 20 * GIB, format: "raw" } }],
    [
      "a backing file: an overlay on it",
      { id: "d", backingFile: "debian-12.qcow2" },
      { newImage: { sizeBytes: 0, format: "qcow2", backingPath: "debian-12.qcow2" } },
    ],
  ])("%s", (_name, disk, want) => {
    const [d] = fromWire({ disks: [disk] }).disks;
    const { id: _id, bus: _b, bootOrder: _o, readonly: _r, device: _d, ...where } = d!;
    expect(where).toEqual(want);
  });

  test("a CD-ROM's ISO: an absolute path, or a name relative to the pools", () => {
    const cds = fromWire({ cdroms: [{ id: "a", isoPath: "/srv/iso/x.iso" }, { id: "b", isoPath: "iso/debian.iso" }, { id: "c" }] }).disks;
    expect(cds.map((d) => ({ id: d.id, path: d.path, volume: d.volume, bus: d.bus, readonly: d.readonly }))).toEqual([
      { id: "a", path: "/srv/iso/x.iso", volume: undefined, bus: "sata", readonly: true },
      { id: "b", path: undefined, volume: "iso/debian.iso", bus: "sata", readonly: true },
      { id: "c", path: undefined, volume: undefined, bus: "sata", readonly: true },
    ]);
  });

  test("a disk naming no image at all is refused naming its path", () => {
    expect(refusal({ disks: [{ id: "d" }] })).toMatch(/^3 spec\.disks\[0\]\.path: give an existing image/);
  });

  test("AttachDisk's disk numbers a generated id after the VM's disks", () => {
    expect(diskFromWire(create(CreateVMOnNodeRequestSchema, { spec: { disks: [{ sizeGib: 1n }] } }).spec!.disks[0]!, "disk", 3).id).toBe("disk3");
  });
});

describe("numbers from the compute API and values this build does not know", () => {
  test("bus 4 (the compute API's IDE) is IDE; NIC model 3 (its VMXNET3) is virtio", () => {
    const s = fromWire({ disks: [{ id: "d", sizeGib: 1n, bus: 4 as DiskBus }], nics: [{ id: "n", network: "lan", model: 3 as NicModel }] });
    expect(s.disks[0]!.bus).toBe("ide");
    expect(s.nics[0]!.model).toBe("virtio");
  });

  test.each<[string, SpecInit, string]>([
    ["disk bus", { disks: [{ id: "d", sizeGib: 1n, bus: 5 as DiskBus }] }, "spec.disks[0].bus: unknown value 5; allowed: virtio, scsi, sata, ide"],
    ["disk format", { disks: [{ id: "d", sizeGib: 1n, format: 2 as DiskFormat }] }, "spec.disks[0].format: unknown value 2; allowed: qcow2, raw"],
    ["NIC model", { nics: [{ id: "n", model: 4 as NicModel }] }, "spec.nics[0].model: unknown value 4; allowed: virtio, e1000, rtl8139"],
    ["firmware", { firmware: 2 as Firmware }, "spec.firmware: unknown value 2; allowed: bios, uefi"],
    ["CPU mode", { cpuMode: 9 as CpuMode }, "spec.cpu_mode: unknown value 9; allowed: auto, host-passthrough, host-model, custom, maximum"],
    ["memory beyond 2^53", { memoryMib: 1n << 60n }, `spec.memory_mib: value ${1n << 60n} is too large`],
    ["disk size beyond 2^53", { disks: [{ id: "d", sizeGib: 1n << 54n }] }, `spec.disks[0].size_gib: value ${1n << 54n} is too large`],
  ])("%s", (_name, spec, message) => {
    expect(refusal(spec)).toBe(`3 ${message}`);
  });

  test("a missing spec is refused", () => {
    expect(() => vmSpecFromWire(create(CreateVMOnNodeRequestSchema, { name: "x" }), DEFAULTS)).toThrow("spec: is required");
  });
});

describe("zero values", () => {
  test("mean the contract's first value (virtio, qcow2, BIOS) or the node's default (0 sockets: 1)", () => {
    const s = fromWire({ cpuCores: 2, disks: [{ id: "d", sizeGib: 1n }], nics: [{ id: "n", network: "lan" }] });
    expect(s.cpu).toEqual({ sockets: 1, coresPerSocket: 2, threadsPerCore: 1, mode: "auto" });
    expect(s.disks[0]).toMatchObject({ bus: "virtio", readonly: false, device: "disk", newImage: { format: "qcow2" } });
    expect(s.nics[0]!.model).toBe("virtio");
    expect([s.firmware, s.hugepages, s.guestOs, s.description]).toEqual(["bios", false, "", ""]);
  });
});

describe("the model back on the wire", () => {
  test("name and labels come from the request's top; every field survives the round trip", () => {
    const wire = request(
      {
        cpuSockets: 2,
        cpuCores: 4,
        cpuThreadsPerCore: 2,
        memoryMib: 8192n,
        memoryHugepages: true,
        firmware: Firmware.UEFI,
        disks: [
          { id: "root", sizeGib: 20n, format: DiskFormat.QCOW2, backingFile: "/srv/cloud/debian.qcow2", bootable: true },
          { id: "data", path: "/srv/vms/data.raw", bus: DiskBus.SCSI, readonly: true, iopsLimit: 500n, throughputMbps: 100n },
        ],
        cdroms: [{ id: "iso", isoPath: "iso/debian.iso" }],
        nics: [
          { id: "eth0", bridge: "br0", macAddress: "52:54:00:aa:bb:cc", bandwidthMbps: 1000n },
          { id: "eth1", network: "lan", model: NicModel.E1000 },
        ],
        console: { spiceEnabled: true, spicePort: 5930, listen: "0.0.0.0" },
        guestOs: "debian",
        cpuMode: CpuMode.CUSTOM,
        cpuModel: "Skylake-Server",
        hostDevices: [{ pciAddress: "0000:65:00.0", disableRomBar: true }],
        description: "primary",
      },
      { name: "db-1", labels: { tier: "db" } },
    );
    const model = vmSpecFromWire(wire, DEFAULTS);
    expect({ name: model.name, labels: model.labels }).toEqual({ name: "db-1", labels: { tier: "db" } });
    expect(model.cpu).toEqual({ sockets: 2, coresPerSocket: 4, threadsPerCore: 2, mode: "custom", model: "Skylake-Server" });
    const back = vmSpecToWire(model);
    expect(back.bootOrder).toEqual([BootDevice.DISK, BootDevice.CDROM]);
    // What the wire had, apart from what the node derives or keeps to itself.
    wire.spec!.bootOrder = [BootDevice.DISK, BootDevice.CDROM];
    wire.spec!.cdroms[0]!.bootable = true;
    expect(back).toEqual(wire.spec!);
  });

  test("the console password and cloud-init data never leave in a spec", () => {
    const model = fromWire({ console: { vncEnabled: true, vncPassword: "pw" }, cloudInit: { userData: "#cloud-config\npassword: x" } });
    expect(model.console.password).toBe("pw");
    const back = vmSpecToWire(model);
    expect(back.console!.vncPassword).toBe("");
    expect(back.cloudInit).toBeUndefined();
  });
});
