// The protobuf-only VMStatus (src/server/convert/vm-status-binary.ts) that ListVMs and
// GetVMStatus send to binary clients: it must decode to exactly what the plain conversion
// encodes, for VMs with and without optional parts, and after the spec changes.

import { expect, test } from "bun:test";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ListVMsResponseSchema, VMStatusSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { deepFreeze } from "../../src/hypervisor/mock/context.ts";
import { withDefaults } from "../../src/hypervisor/defaults.ts";
import type { VmStatus } from "../../src/hypervisor/types.ts";
import { vmStatusToWireBinary, wantsBinary } from "../../src/server/convert/vm-status-binary.ts";
import { vmStatusToWire } from "../../src/server/convert/vm-status.ts";

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
  return {
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

test("a list of them decodes like the plain list; a replaced spec is encoded anew", () => {
  const vms = [status("x"), status("y"), status("z")];
  const plain = fromBinary(ListVMsResponseSchema, toBinary(ListVMsResponseSchema, create(ListVMsResponseSchema, { vms: vms.map((v) => vmStatusToWire(v)), totalCount: 3 })));
  const packed = fromBinary(ListVMsResponseSchema, toBinary(ListVMsResponseSchema, create(ListVMsResponseSchema, { vms: vms.map(vmStatusToWireBinary), totalCount: 3 })));
  expect(equals(ListVMsResponseSchema, packed, plain)).toBe(true);

  const first = vms[0]!;
  // Hot-plug and revert replace the frozen spec as a whole: the new one is what goes out.
  const changed = { ...first, spec: deepFreeze({ ...first.spec, description: "resized" }) };
  expect(roundTrip(vmStatusToWireBinary(changed)).spec?.description).toBe("resized");
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
