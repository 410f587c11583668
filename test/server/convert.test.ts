import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, test } from "bun:test";
import {
  ConsoleType,
  CpuMode,
  DiskBus,
  DiskDevice,
  DiskFormat,
  Firmware,
  NicModel,
  VMSpecSchema,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../src/hypervisor/errors.ts";
import { EventBusError } from "../../src/events/event-bus.ts";
import { toConnectError } from "../../src/server/errors.ts";
import { vmSpecFromWire, vmSpecToWire } from "../../src/server/convert/vm-spec.ts";
import { paginate } from "../../src/server/services/paginate.ts";
import type { VmStatus } from "../../src/hypervisor/types.ts";

const full = () =>
  create(VMSpecSchema, {
    name: "db-1",
    cpu: { sockets: 2, coresPerSocket: 4, threadsPerCore: 2, mode: CpuMode.CUSTOM, model: "Skylake-Server" },
    memory: { sizeMib: 8192n, hugepages: true },
    disks: [
      { id: "root", source: { case: "newImage", value: { sizeBytes: 20n << 30n, format: DiskFormat.QCOW2, backingPath: "/var/lib/limiquantix/vms/cloud/debian.qcow2" } }, bus: DiskBus.VIRTIO, bootOrder: 1, device: DiskDevice.DISK },
      { id: "iso", source: { case: "path", value: "/var/lib/limiquantix/vms/iso/debian.iso" }, bus: DiskBus.SATA, readonly: true, device: DiskDevice.CDROM, bootOrder: 2 },
    ],
    nics: [
      { id: "eth0", attachment: { case: "bridge", value: "br0" }, mac: "52:54:00:AA:BB:CC", model: NicModel.VIRTIO },
      { id: "eth1", attachment: { case: "network", value: "default" }, model: NicModel.E1000 },
    ],
    firmware: Firmware.UEFI,
    console: { type: ConsoleType.SPICE, listen: "0.0.0.0" },
    hostDevices: [{ pciAddress: "0000:65:00.0", disableRomBar: true }],
    labels: { tier: "db" },
    description: "primary",
  });

describe("VMSpec conversion", () => {
  test("wire -> model -> wire keeps every field (MACs lower-cased)", () => {
    const wire = full();
    const model = vmSpecFromWire(wire);
    expect(model.cpu).toEqual({ sockets: 2, coresPerSocket: 4, threadsPerCore: 2, mode: "custom", model: "Skylake-Server" });
    expect(model.disks[0]!.newImage).toEqual({ sizeBytes: 20 * 2 ** 30, format: "qcow2", backingPath: "/var/lib/limiquantix/vms/cloud/debian.qcow2" });
    expect(model.disks[1]).toMatchObject({ path: "/var/lib/limiquantix/vms/iso/debian.iso", bus: "sata", device: "cdrom", readonly: true });
    expect(model.nics[0]!.mac).toBe("52:54:00:aa:bb:cc");
    expect(model.firmware).toBe("uefi");
    const back = vmSpecToWire(model);
    wire.nics[0]!.mac = "52:54:00:aa:bb:cc";
    expect(back).toEqual(wire);
  });

  test("UNSPECIFIED enums take the defaults", () => {
    const model = vmSpecFromWire(create(VMSpecSchema, { name: "x", disks: [{ id: "d", source: { case: "path", value: "/a" } }], nics: [{ id: "n", attachment: { case: "network", value: "default" } }] }));
    expect(model.cpu.mode).toBe("host-passthrough");
    expect(model.cpu.sockets).toBe(1);
    expect(model.disks[0]).toMatchObject({ bus: "virtio", device: "disk" });
    expect(model.nics[0]!.model).toBe("virtio");
    expect(model.firmware).toBe("bios");
    expect(model.console.type).toBe("vnc");
  });

  test("an enum value this build does not know is INVALID_ARGUMENT naming the field", () => {
    const wire = full();
    wire.disks[1]!.bus = 42 as DiskBus;
    expect(() => vmSpecFromWire(wire)).toThrow("spec.disks[1].bus: unknown value 42; allowed: virtio, scsi, sata, ide");
  });

  test("sizes beyond 2^53 are refused, not rounded", () => {
    const wire = full();
    wire.memory!.sizeMib = 1n << 60n;
    expect(() => vmSpecFromWire(wire)).toThrow("spec.memory.size_mib");
  });

  test("the console password never leaves in a spec", () => {
    const model = vmSpecFromWire(create(VMSpecSchema, { name: "x", console: { type: ConsoleType.VNC, password: "pw" } }));
    expect(model.console.password).toBe("pw");
    expect(vmSpecToWire(model).console!.password).toBe("");
  });
});

describe("error mapping", () => {
  test.each([
    ["not_found", Code.NotFound],
    ["already_exists", Code.AlreadyExists],
    ["invalid_state", Code.FailedPrecondition],
    ["invalid_argument", Code.InvalidArgument],
    ["unavailable", Code.Unavailable],
    ["timeout", Code.DeadlineExceeded],
    ["unsupported", Code.FailedPrecondition],
    ["cancelled", Code.Canceled],
    ["internal", Code.Internal],
  ] as const)("%s -> %s", (kind, code) => {
    const err = toConnectError(new HypervisorError(kind, "msg"));
    expect(err.code).toBe(code);
    expect(err.rawMessage).toBe("msg");
  });

  test("unexpected errors are INTERNAL without their details, and reported with them", () => {
    const reported: unknown[] = [];
    const cause = new Error("ENOENT: /root/secret/thing");
    const err = toConnectError(cause, (e) => reported.push(e));
    expect(err.code).toBe(Code.Internal);
    expect(err.rawMessage).not.toContain("/root");
    expect(reported).toEqual([cause]);
  });

  test("event bus errors: gone is OUT_OF_RANGE, too slow is RESOURCE_EXHAUSTED", () => {
    expect(toConnectError(new EventBusError("gone", "x")).code).toBe(Code.OutOfRange);
    expect(toConnectError(new EventBusError("too_slow", "x")).code).toBe(Code.ResourceExhausted);
  });

  test("ConnectErrors pass through unchanged", () => {
    const e = new ConnectError("x", Code.Aborted);
    expect(toConnectError(e)).toBe(e);
  });
});

describe("pagination", () => {
  const vms = ["c", "a", "d", "b", "e"].map((id) => ({ id }) as VmStatus);

  test("page size 0 returns all in backend order", () => {
    expect(paginate(vms, 0, "").items.map((v) => v.id)).toEqual(["c", "a", "d", "b", "e"]);
  });

  test("pages walk the ids in order and end with an empty token", () => {
    const p1 = paginate(vms, 2, "");
    const p2 = paginate(vms, 2, p1.nextPageToken);
    const p3 = paginate(vms, 2, p2.nextPageToken);
    expect([p1, p2, p3].map((p) => p.items.map((v) => v.id))).toEqual([["a", "b"], ["c", "d"], ["e"]]);
    expect(p3.nextPageToken).toBe("");
  });

  test("a VM deleted between pages does not shift the next page", () => {
    const p1 = paginate(vms, 2, "");
    const p2 = paginate(vms.filter((v) => v.id !== "a"), 2, p1.nextPageToken);
    expect(p2.items.map((v) => v.id)).toEqual(["c", "d"]);
  });

  test("a forged token is INVALID_ARGUMENT naming page_token", () => {
    expect(() => paginate(vms, 2, "garbage")).toThrow("page_token");
  });
});
