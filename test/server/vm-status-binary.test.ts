// The pre-encoded VMStatus (src/server/convert/vm-status-binary.ts) that ListVMs and GetVMStatus
// send to protobuf clients: it must decode to exactly what the plain conversion encodes, for VMs
// with and without optional parts; an encoding is reused only for the very same frozen status.

import { expect, test } from "bun:test";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ListVMsResponseSchema, VMStatusSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { deepFreeze } from "../../src/hypervisor/mock/context.ts";
import { withDefaults } from "../../src/hypervisor/defaults.ts";
import type { VmStatus } from "../../src/hypervisor/types.ts";
import { listVmsResponseBinary, vmStatusBytes, vmStatusToWireBinary, wantsBinary } from "../../src/server/convert/vm-status-binary.ts";
import { vmStatusToWire } from "../../src/server/convert/vm-status.ts";

/** A status as the mock hands them out (frozen), or as libvirt builds them (not frozen). */
function status(name: string, extra: Partial<VmStatus> = {}, frozen = true): VmStatus {
  const spec = withDefaults({
    name,
    memoryMib: 2048,
    disks: [
      { id: "root", newImage: { sizeBytes: 10 * 2 ** 30 }, bootOrder: 1 },
      { id: "iso", path: "/srv/iso/debian.iso", device: "cdrom", readonly: true },
    ],
    nics: [{ id: "eth0", bridge: "br0", mac: "52:54:00:12:34:56" }],
    console: { type: "vnc", password: "secret" },
    labels: { tier: "web", "team.example/owner": "ops" },
    hostDevices: [{ pciAddress: "0000:01:00.0" }],
  });
  const value: VmStatus = {
    id: crypto.randomUUID(),
    name,
    state: "running",
    stateReason: "booted",
    spec: frozen ? deepFreeze(spec) : spec,
    usage: { cpuUsagePercent: 12.5, cpuTimeNs: 1e12, memoryUsedBytes: 2 ** 30, memoryTotalBytes: 2 ** 31, diskReadBytes: 5, diskWriteBytes: 6, networkRxBytes: 7, networkTxBytes: 8 },
    createdAt: new Date(1_700_000_000_000),
    startedAt: new Date(1_700_000_100_000),
    snapshotCount: 2,
    currentSnapshot: "s1",
    ...extra,
  };
  return frozen ? deepFreeze(value) : value;
}

const roundTrip = (v: ReturnType<typeof vmStatusToWire>) => fromBinary(VMStatusSchema, toBinary(VMStatusSchema, v));

test("decodes to the same VMStatus as the plain conversion, frozen spec or not, odd values too", () => {
  const zeros = { cpuUsagePercent: 0, cpuTimeNs: 0, memoryUsedBytes: 0, memoryTotalBytes: 0, diskReadBytes: 0, diskWriteBytes: 0, networkRxBytes: 0, networkTxBytes: 0 };
  const odd = { createdAt: new Date(-1_234), startedAt: new Date(0), snapshotCount: 0, stateReason: "", usage: { ...zeros, cpuUsagePercent: 0.1, cpuTimeNs: 2 ** 53 - 1, memoryUsedBytes: -5.4 } };
  for (const vm of [status("a"), status("b", { startedAt: undefined, currentSnapshot: undefined, state: "stopped", usage: zeros }), status("c", {}, false), status("d", odd)]) {
    const plain = roundTrip(vmStatusToWire(vm));
    const packed = roundTrip(vmStatusToWireBinary(vm));
    expect(equals(VMStatusSchema, packed, plain)).toBe(true);
    expect(packed.spec?.disks.map((d) => d.id)).toEqual(["root", "iso"]);
    // The console password never leaves through a status.
    expect(packed.spec?.console?.password).toBe("");
  }
});

const plainList = (vms: VmStatus[], nextPageToken = "", totalCount = vms.length) =>
  fromBinary(ListVMsResponseSchema, toBinary(ListVMsResponseSchema, create(ListVMsResponseSchema, { vms: vms.map(vmStatusToWire), nextPageToken, totalCount })));
const packedList = (vms: VmStatus[], nextPageToken = "", totalCount = vms.length) =>
  fromBinary(ListVMsResponseSchema, toBinary(ListVMsResponseSchema, listVmsResponseBinary(vms, nextPageToken, totalCount)));

test("a list decodes like the plain list: empty, one, many, with page token and total", () => {
  expect(equals(ListVMsResponseSchema, packedList([]), plainList([]))).toBe(true);
  expect(equals(ListVMsResponseSchema, packedList([], "tok", 7), plainList([], "tok", 7))).toBe(true);
  const one = [status("solo")];
  expect(equals(ListVMsResponseSchema, packedList(one), plainList(one))).toBe(true);
  // Enough VMs that entries and lengths need multi-byte varints.
  const many = Array.from({ length: 300 }, (_, i) => status(`vm-${i}`, i % 3 ? {} : { state: "stopped", startedAt: undefined }, i % 2 === 0));
  const packed = packedList(many, "next", 1000);
  expect(equals(ListVMsResponseSchema, packed, plainList(many, "next", 1000))).toBe(true);
  expect(packed.vms.map((v) => v.name)).toEqual(many.map((v) => v.name));
});

test("a frozen status is encoded once; a new status object is encoded anew", () => {
  const vm = status("cached");
  expect(vmStatusBytes(vm)).toBe(vmStatusBytes(vm));
  // Hot-plug and revert hand out a new status with a new spec: the new one is what goes out.
  const changed = deepFreeze({ ...vm, spec: deepFreeze({ ...vm.spec, description: "resized" }) });
  expect(roundTrip(vmStatusToWireBinary(changed)).spec?.description).toBe("resized");
  expect(roundTrip(vmStatusToWireBinary(vm)).spec?.description).toBe(vm.spec.description ?? "");
});

test("a status that is not frozen is never served from a cache", () => {
  const vm = status("live", {}, false);
  const first = roundTrip(vmStatusToWireBinary(vm));
  vm.state = "paused";
  vm.usage.cpuTimeNs = 42;
  const again = roundTrip(vmStatusToWireBinary(vm));
  expect(again.state).not.toBe(first.state);
  expect(again.usage?.cpuTimeNs).toBe(42n);
  // The same holds for a listing of such statuses, asked twice with the same array.
  const list = [status("l1", {}, false), status("l2", {}, false)];
  expect(packedList(list).vms[0]?.stateReason).toBe("booted");
  list[0]!.stateReason = "changed in place";
  expect(packedList(list).vms[0]?.stateReason).toBe("changed in place");
});

test("a listing of the same statuses is answered from the last one; any other listing is built anew", () => {
  const vms = [status("a1"), status("a2"), status("a3")];
  expect(packedList(vms).vms.map((v) => v.name)).toEqual(["a1", "a2", "a3"]);
  // A fresh array holding the same objects: same answer.
  expect(packedList([...vms]).vms.map((v) => v.name)).toEqual(["a1", "a2", "a3"]);
  // One status replaced, one removed, order changed: each is its own answer.
  const replaced = [vms[0]!, deepFreeze({ ...vms[1]!, state: "stopped" as const }), vms[2]!];
  expect(packedList(replaced).vms.map((v) => v.state)).toEqual(plainList(replaced).vms.map((v) => v.state));
  expect(packedList(vms.slice(1)).vms.map((v) => v.name)).toEqual(["a2", "a3"]);
  expect(packedList([vms[2]!, vms[0]!, vms[1]!]).vms.map((v) => v.name)).toEqual(["a3", "a1", "a2"]);
  expect(equals(ListVMsResponseSchema, packedList(vms, "p", 9), plainList(vms, "p", 9))).toBe(true);
});

test("only JSON content types take the plain path", () => {
  for (const ct of ["application/grpc", "application/grpc+proto", "application/grpc-web+proto", "application/proto", "application/connect+proto"]) {
    expect(wantsBinary(ct)).toBe(true);
  }
  for (const ct of ["application/json", "application/json; charset=utf-8", "application/grpc+json", "application/grpc-web+json", "application/connect+json"]) {
    expect(wantsBinary(ct)).toBe(false);
  }
  expect(wantsBinary(null)).toBe(false);
});
