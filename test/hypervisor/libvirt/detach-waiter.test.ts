// A live detach registers its "device removed" waiter before calling libvirt (the event can beat
// the answer); when the detach call itself fails, the waiter goes with it, so none outlives its call.

import { writeFileSync, rmSync } from "node:fs";
import { afterAll, expect, test } from "bun:test";
import { withDefaults } from "../../../src/hypervisor/defaults.ts";
import { HypervisorError } from "../../../src/hypervisor/errors.ts";
import type { CallPool } from "../../../src/hypervisor/libvirt/call-pool.ts";
import { createContextBase } from "../../../src/hypervisor/libvirt/context.ts";
import { detachDisk, detachNic } from "../../../src/hypervisor/libvirt/devices.ts";
import { buildDomainXml } from "../../../src/hypervisor/libvirt/domain-xml/index.ts";
import { LIBVIRT_STATE } from "../../../src/hypervisor/libvirt/state-map.ts";
import { createVmLocks } from "../../../src/hypervisor/vm-lock.ts";
import { expectKind } from "../contract-helpers.ts";

const ID = "5a1b0c2d-14b0-4000-8000-00000000d1d1";
const image = `/tmp/lq14b-detach-${process.pid}.img`;
writeFileSync(image, Buffer.alloc(512));
afterAll(() => rmSync(image, { force: true }));

function runningVmContext(detach: () => never) {
  const spec = withDefaults({
    name: "lq14b-detach",
    memoryMib: 128,
    disks: [
      { id: "root", path: image, bootOrder: 1 },
      { id: "data", path: image },
    ],
    nics: [
      { id: "eth0", bridge: "br0", mac: "52:54:00:00:14:01" },
      { id: "eth1", bridge: "br0", mac: "52:54:00:00:14:02" },
    ],
  });
  const xml = buildDomainXml({
    id: ID,
    spec: { ...spec, disks: spec.disks.map((d) => ({ ...d, resolvedPath: d.path })) },
    domainType: "qemu",
    consoleListen: "127.0.0.1",
    createdAt: new Date(),
    diskFormats: { root: "raw", data: "raw" },
  });
  const calls: string[] = [];
  const pool = {
    call: async (op: string) => {
      calls.push(op);
      if (op === "domain") return { uuid: ID, name: spec.name, xml, state: LIBVIRT_STATE.RUNNING, reason: 1, snapshotCount: 0 };
      if (op === "detach") detach();
      throw new Error(`unexpected op ${op}`);
    },
  } as unknown as CallPool;
  const settings = {
    uri: "test:///x",
    storagePath: "/tmp",
    consoleListen: "127.0.0.1",
    poolName: "p",
    cloudImagesDir: "/tmp",
    isoImagesDir: "/tmp",
    stopPollMs: 1,
    detachWaitMs: 60_000,
    migrationPollMs: 1,
    cpuDisabledFeatures: [],
  };
  const log = { info() {}, warn() {}, debug() {}, error() {} };
  const ctx = createContextBase(pool, createVmLocks(), settings, { driverType: "QEMU", domainType: "qemu", hostname: "h" }, log);
  return { ctx, calls };
}

test("a live disk or NIC detach that libvirt refuses leaves no removal waiter behind", async () => {
  const { ctx, calls } = runningVmContext(() => {
    throw new HypervisorError("invalid_state", "the guest refused to release the device");
  });
  await expectKind(detachDisk(ctx, ID, "data"), "invalid_state");
  await expectKind(detachNic(ctx, ID, "eth1"), "invalid_state");
  expect(calls.filter((c) => c === "detach")).toHaveLength(2);
  expect(ctx.removals.size).toBe(0);
});
