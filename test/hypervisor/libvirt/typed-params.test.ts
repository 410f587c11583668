// readTypedParams over virTypedParameter arrays laid out as libvirt lays them out (80-byte field,
// int type, 8-aligned value union): every type, the longest name, and the parameters
// libvirt's own allocator builds (virTypedParamsAdd*) read back unchanged.

import { expect, test } from "bun:test";
import { ptr } from "bun:ffi";
import { buildParams, readTypedParams, TYPED_PARAM_SIZE } from "../../../src/hypervisor/libvirt/ffi/typed-params.ts";
import { closeConnection, openConnection } from "../../../src/hypervisor/libvirt/ffi/connection.ts";
import { loadLibvirt } from "../../../src/hypervisor/libvirt/ffi/library.ts";

type Entry = { name: string; type: number; write(view: DataView, at: number): void };

/** A parameter array in memory; strings live in buffers kept alive by the returned list. */
function layout(entries: Entry[]): { base: ReturnType<typeof ptr>; keep: unknown[] } {
  const bytes = new Uint8Array(entries.length * TYPED_PARAM_SIZE);
  const view = new DataView(bytes.buffer);
  entries.forEach((e, i) => {
    const off = i * TYPED_PARAM_SIZE;
    bytes.set(new TextEncoder().encode(e.name).subarray(0, 80), off);
    view.setInt32(off + 80, e.type, true);
    e.write(view, off + 88);
  });
  return { base: ptr(bytes), keep: [bytes] };
}

test("every parameter type, by its libvirt name", () => {
  const text = Buffer.from("/var/lib/libvirt/images/disk.qcow2\0");
  const { base, keep } = layout([
    { name: "state.state", type: 1, write: (v, at) => v.setInt32(at, -3, true) },
    { name: "vcpu.current", type: 2, write: (v, at) => v.setUint32(at, 4_000_000_000, true) },
    { name: "cpu.delta", type: 3, write: (v, at) => v.setBigInt64(at, -5n, true) },
    { name: "block.0.rd.bytes", type: 4, write: (v, at) => v.setBigUint64(at, 2n ** 40n + 7n, true) },
    { name: "load", type: 5, write: (v, at) => v.setFloat64(at, 0.25, true) },
    { name: "enabled", type: 6, write: (v, at) => v.setInt8(at, 1) },
    { name: "block.0.path", type: 7, write: (v, at) => v.setBigUint64(at, BigInt(ptr(text)), true) },
    { name: "empty.string", type: 7, write: (v, at) => v.setBigUint64(at, 0n, true) },
    { name: "from.the.future", type: 99, write: () => undefined },
  ]);
  expect(readTypedParams(base, 9)).toEqual({
    "state.state": -3,
    "vcpu.current": 4_000_000_000,
    "cpu.delta": -5,
    "block.0.rd.bytes": 2 ** 40 + 7,
    load: 0.25,
    enabled: true,
    "block.0.path": "/var/lib/libvirt/images/disk.qcow2",
    "empty.string": "",
  });
  expect(typeof readTypedParams(base, 9)["block.0.path"]).toBe("string");
  expect(keep.length).toBe(1);
  expect(readTypedParams(base, 0)).toEqual({});
});

test("the longest name libvirt allows (79 characters and its NUL) is read whole, and the next one too", () => {
  const long = "x".repeat(79);
  const { base } = layout([
    { name: long, type: 1, write: (v, at) => v.setInt32(at, 1, true) },
    { name: "next", type: 1, write: (v, at) => v.setInt32(at, 2, true) },
  ]);
  expect(readTypedParams(base, 2)).toEqual({ [long]: 1, next: 2 });
});

test("what libvirt's own allocator builds reads back unchanged", () => {
  const lv = loadLibvirt();
  // libvirt initialises itself (its error slots included) on the first connection, as the
  // Workers always have one before they build parameters.
  const conn = openConnection(lv, "test:///default");
  const built = buildParams(lv, { bandwidth: 12_345n, migrate_disks: ["vda", "vdb"], destination_name: "vm-é" });
  try {
    if (built.params === null) throw new Error("no parameters built");
    const back = readTypedParams(built.params, built.count);
    // A repeated name keeps its last value in a record; libvirt's readers take every entry.
    expect(back).toEqual({ bandwidth: 12_345, migrate_disks: "vdb", destination_name: "vm-é" });
  } finally {
    built.free();
    closeConnection(conn);
  }
});
