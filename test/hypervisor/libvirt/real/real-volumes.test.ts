// The real tier for volumes: a dir pool on libvirtd with QEMU, volumes created (empty, a
// copy-on-write clone, an overlay on an image), resized, fully copied, snapshotted and deleted
// through libvirt's storage API, every figure confirmed with virsh pool-info / vol-info; a VM
// booted from a volume of the pool (and the pool's destroy refused while it exists, naming it);
// the pool still there after the backend is closed and opened again; a network pool whose
// server refuses is "unavailable" in bounded time. Needs LIMIQUANTIX_REAL_LIBVIRT=1.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { withDefaults } from "../../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import type { Hypervisor } from "../../../../src/hypervisor/types.ts";
import { REAL, realCpuDisabledFeatures, realDomainType, realTierStorage, type RealTierStorage, URI, virsh, virshQuietly } from "./helpers.ts";

const STEP_MS = 90_000;
const MiB = 1024 * 1024;
const domainType = realDomainType();

/** virsh vol-info's "Capacity: 64.00 MiB" / "Allocation: ..." as bytes, via --bytes. */
function volInfo(path: string): { capacity: number; allocation: number; type: string } {
  const out = virsh("vol-info", "--bytes", path);
  const num = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) bytes`).exec(out)?.[1]);
  return { capacity: num("Capacity"), allocation: num("Allocation"), type: /Type:\s+(\S+)/.exec(out)?.[1] ?? "" };
}

function poolInfo(name: string): { state: string; persistent: string; autostart: string; capacity: number; available: number } {
  const out = virsh("pool-info", "--bytes", name);
  const get = (k: string) => new RegExp(`${k}:\\s+(.+)`).exec(out)?.[1]?.trim() ?? "";
  return {
    state: get("State"),
    persistent: get("Persistent"),
    autostart: get("Autostart"),
    capacity: Number(get("Capacity")),
    available: Number(get("Available")),
  };
}

describe.skipIf(!REAL)(`real volumes on ${URI}`, () => {
  let store: RealTierStorage;
  let hv: Hypervisor;
  const poolId = crypto.randomUUID();
  const vmId = crypto.randomUUID();
  let poolPath = "";
  let base = "";
  const open = () =>
    createLibvirtHypervisor({
      uri: URI,
      storagePath: store.storagePath,
      consoleListen: "127.0.0.1",
      poolName: store.poolName,
      domainType,
      cpuDisabledFeatures: domainType === "kvm" ? realCpuDisabledFeatures() : [],
      cloudImagesDir: join(store.root, "cloud"),
    });

  beforeAll(async () => {
    store = realTierStorage("lq-rv-");
    poolPath = join(store.root, "pools", poolId);
    mkdirSync(join(store.root, "cloud"), { recursive: true, mode: 0o755 });
    base = join(store.root, "cloud", "base.qcow2");
    const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", base, "32M"]);
    if (made.exitCode !== 0) throw new Error(`qemu-img create: ${made.stderr.toString()}`);
    hv = await open();
  }, STEP_MS);

  afterAll(async () => {
    virshQuietly(["destroy", vmId], ["undefine", vmId], ["pool-destroy", poolId], ["pool-undefine", poolId]);
    await hv?.close();
    store?.remove();
  }, STEP_MS);

  test(
    "volumes: empty, clone, image overlay, resize, full copy, snapshot, delete — virsh agrees on every figure",
    async () => {
      const pool = await hv.initPool({ id: poolId, type: "dir", path: poolPath });
      const pi = poolInfo(poolId);
      expect([pi.state, pi.persistent, pi.autostart]).toEqual(["running", "yes", "yes"]);
      expect(pool.totalBytes).toBe(pi.capacity);

      const a = await hv.createVolume(poolId, { name: "a", sizeBytes: 64 * MiB, format: "qcow2", source: { kind: "empty" } });
      expect(volInfo(a.path)).toMatchObject({ capacity: 64 * MiB, type: "file" });
      expect(a.allocationBytes).toBe(volInfo(a.path).allocation);
      const b = await hv.createVolume(poolId, { name: "b", sizeBytes: 0, format: "qcow2", source: { kind: "clone", volume: "a" } });
      expect(b.backingPath).toBe(a.path);
      expect(volInfo(b.path).capacity).toBe(64 * MiB);
      expect(virsh("vol-dumpxml", b.path)).toContain(`<path>${a.path}</path>`);
      const c = await hv.createVolume(poolId, { name: "c", sizeBytes: 16 * MiB, format: "qcow2", source: { kind: "image", image: "base" } });
      // Never smaller than its base.
      expect([c.backingPath, volInfo(c.path).capacity]).toEqual([base, 32 * MiB]);
      const grown = await hv.resizeVolume(poolId, "c", 128 * MiB);
      const shrink = await hv.resizeVolume(poolId, "c", 64 * MiB).catch((e: Error) => e);
      expect(shrink).toMatchObject({ kind: "invalid_argument", field: "new_size_bytes" });
      expect([grown.sizeBytes, volInfo(c.path).capacity]).toEqual([128 * MiB, 128 * MiB]);
      const d = await hv.cloneVolume(poolId, "a", "d");
      expect([d.backingPath, volInfo(d.path).capacity]).toEqual([undefined, 64 * MiB]);
      const s = await hv.snapshotVolume(poolId, "a", "s1");
      expect(s.name).toBe("a@s1.qcow2");
      const vols = (await hv.listVolumes(poolId)).map((v) => v.name);
      expect(vols).toEqual(["a.qcow2", "a@s1.qcow2", "b.qcow2", "c.qcow2", "d.qcow2"]);
      expect(virsh("vol-list", poolId).split("\n").length).toBe(5);
      expect((await hv.getPool(poolId)).volumeCount).toBe(5);
      for (const v of ["b", "c", "d", "a@s1", "a"]) await hv.deleteVolume(poolId, v);
      expect(existsSync(a.path)).toBe(false);
    },
    STEP_MS,
  );

  test(
    "a VM boots from a volume of the pool; destroying the pool is refused naming it",
    async () => {
      await hv.createVolume(poolId, { name: "boot", sizeBytes: 32 * MiB, format: "qcow2", source: { kind: "image", image: base } });
      const spec = withDefaults({
        name: `real-vol-${vmId.slice(0, 8)}`,
        memoryMib: 128,
        cpu: domainType === "kvm" ? { sockets: 1, coresPerSocket: 1 } : { sockets: 1, coresPerSocket: 1, mode: "custom", model: "qemu64" },
        disks: [{ id: "root", volume: "boot", pool: poolId, bootOrder: 1 }],
      });
      const { vm } = await hv.createVm(vmId, spec);
      expect(vm.spec.disks[0]?.resolvedPath).toBe(join(poolPath, "boot.qcow2"));
      expect((await hv.startVm(vmId)).state).toBe("running");
      expect(virsh("domblklist", vmId)).toContain(join(poolPath, "boot.qcow2"));
      expect((await hv.listVolumes(poolId)).find((v) => v.name === "boot.qcow2")?.attachedTo).toBe(vmId);
      await expect(hv.destroyPool(poolId)).rejects.toMatchObject({ kind: "invalid_state", message: expect.stringContaining(`vm ${spec.name} (${vmId})`) });
      await expect(hv.deleteVolume(poolId, "boot")).rejects.toMatchObject({ kind: "invalid_state" });
      await hv.forceStopVm(vmId);
      await hv.deleteVm(vmId, { deleteDisks: false, force: true });
    },
    STEP_MS,
  );

  test(
    "the pool outlives the backend; destroy undefines it (its files stay)",
    async () => {
      await hv.close();
      hv = await open();
      expect((await hv.getPool(poolId)).active).toBe(true);
      expect((await hv.listVolumes(poolId)).map((v) => v.name)).toEqual(["boot.qcow2"]);
      await hv.destroyPool(poolId);
      expect(() => virsh("pool-info", poolId)).toThrow();
      expect(existsSync(join(poolPath, "boot.qcow2"))).toBe(true);
    },
    STEP_MS,
  );

  test(
    "an NFS server that refuses (a closed loopback port): unavailable within the probe time, nothing defined",
    async () => {
      const t0 = performance.now();
      const err = await hv
        .initPool({
          id: `${poolId}-nfs`,
          type: "netfs",
          path: join(store.root, "mnt"),
          nfs: { server: "127.0.0.2", exportPath: "/x", version: "4.1", options: [] },
        })
        .catch((e: Error) => e);
      expect(err).toMatchObject({ kind: "unavailable" });
      expect(performance.now() - t0).toBeLessThan(6000);
      expect(() => virsh("pool-info", `${poolId}-nfs`)).toThrow();
    },
    STEP_MS,
  );
});
