// The libvirt backend's pools of every type and its volume operations over the test:///default
// driver: network pools are probed first (an endpoint that refuses or does not answer is
// "unavailable" in bounded time, naming it), libvirt calls that take too long are cut off by the
// deadline while the API keeps answering, and volumes are created, copied, snapshotted, listed
// and deleted through libvirt's storage API. The test driver keeps no files (the real tier covers
// those) and mounts nothing: with a reachable (faked) server its netfs pools simply start.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLibvirtHypervisor } from "../../../src/hypervisor/libvirt/index.ts";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import type { Connector } from "../../../src/hypervisor/storage/reachability.ts";
import { requireReachable, tcpConnect, withDeadline } from "../../../src/hypervisor/storage/reachability.ts";
import type { Hypervisor, PoolDefinition } from "../../../src/hypervisor/types.ts";
import { expectKind } from "../contract.ts";

const root = mkdtempSync(join(tmpdir(), "lq-volume-ops-"));
const run = crypto.randomUUID().slice(0, 8);
const OWN = `lq-vo-${run}`;
const MIB = 1 << 20;
let hv: Hypervisor;
let keeper: ffi.Connection;
/** Endpoints the fake connector lets through. */
const reachable = new Set<string>();
const dials: string[] = [];
const fakeConnect: Connector = async (ep) => {
  dials.push(`${ep.host}:${ep.port}`);
  if (!reachable.has(`${ep.host}:${ep.port}`)) throw new Error("connection refused");
};

beforeAll(async () => {
  keeper = ffi.openConnection(ffi.loadLibvirt(), "test:///default");
  hv = await createLibvirtHypervisor({
    uri: "test:///default",
    storagePath: join(root, "vms"),
    consoleListen: "127.0.0.1",
    poolName: OWN,
    poolSize: 2,
    probe: { connect: fakeConnect, timeoutMs: 200 },
  });
});
afterAll(async () => {
  await hv.close();
  ffi.forEachPool(keeper, 0, (p) => {
    const name = ffi.poolName(keeper, p);
    if (name === OWN || name.startsWith(`vo${run}`)) {
      if (ffi.poolIsActive(keeper, p)) ffi.stopPool(keeper, p);
      ffi.undefinePool(keeper, p);
    }
  });
  ffi.closeConnection(keeper);
  rmSync(root, { recursive: true, force: true });
});

const nfs = (id: string, server = "nas.test"): PoolDefinition => ({
  id,
  type: "netfs",
  path: join(root, "mnt", id),
  nfs: { server, exportPath: "/exports/vms", version: "4.1", options: ["soft"] },
});

describe("network pools: probed before libvirt, bounded in time", () => {
  test("an NFS server that refuses: unavailable naming it, nothing defined", async () => {
    const id = `vo${run}-nfs-down`;
    await expectKind(hv.initPool(nfs(id)), "unavailable");
    const err = await hv.initPool(nfs(id)).then(
      () => new Error("no error"),
      (e: Error) => e,
    );
    expect(err.message).toContain("NFS server not reachable from this node (nas.test:2049: connection refused)");
    await expectKind(hv.getPool(id), "not_found");
  });

  // The same definition again is adopted in the real tier (the test driver drops <fs:mount_opts>,
  // so here every netfs definition reads back as another one).
  test("a reachable NFS server: a persistent, autostarted netfs pool; another export is refused naming both", async () => {
    reachable.add("nas.test:2049");
    const id = `vo${run}-nfs`;
    const pool = await hv.initPool(nfs(id));
    expect(pool).toMatchObject({ id, type: "netfs", path: join(root, "mnt", id), active: true, source: "nas.test:/exports/vms" });
    expect(ffi.withPoolNamed(keeper, id, (p) => [ffi.poolIsPersistent(keeper, p), ffi.poolAutostart(keeper, p)])).toEqual([true, true]);
    const moved = await hv
      .initPool({ id, type: "netfs", path: join(root, "mnt", id), nfs: { server: "nas.test", exportPath: "/other", version: "4.1", options: [] } })
      .then(
        () => new Error("no error"),
        (e: Error) => e,
      );
    expect(moved).toMatchObject({ kind: "already_exists" });
    expect(moved.message).toContain("already exists as an NFS pool of nas.test:/exports/vms");
    expect((await hv.listPools()).map((p) => p.id)).toContain(id);
  });

  test("Ceph: every monitor is tried; none answering is unavailable naming each", async () => {
    const def: PoolDefinition = {
      id: `vo${run}-ceph`,
      type: "rbd",
      ceph: {
        clusterId: "",
        pool: "vms",
        monitors: [
          { host: "mon1", port: 6789 },
          { host: "mon2", port: 3300 },
        ],
        user: "libvirt",
        keyringPath: join(root, "none.keyring"),
        namespace: "",
        secretUuid: "b4c5d6e7-f8a9-4b0c-9d1e-2f3a4b5c6d7e",
      },
    };
    const err = await hv.initPool(def).then(
      () => new Error("no error"),
      (e: Error) => e,
    );
    expect(err).toMatchObject({ kind: "unavailable" });
    expect(err.message).toContain("mon1:6789: connection refused; mon2:3300: connection refused");
  });

  test("iSCSI: the portal is probed", async () => {
    const def: PoolDefinition = {
      id: `vo${run}-iscsi`,
      type: "iscsi",
      iscsi: { portal: { host: "san", port: 3260 }, target: "iqn.2026-01.com.example:vms", lun: 0 },
    };
    const err = await hv.initPool(def).then(
      () => new Error("no error"),
      (e: Error) => e,
    );
    expect(err).toMatchObject({ kind: "unavailable" });
    expect(err.message).toContain("iSCSI portal not reachable from this node (san:3260");
  });

  test("a real TCP probe: a closed loopback port is refused at once, a silent one times out in bounded time", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = closed.port;
    closed.stop(true);
    const t0 = performance.now();
    await expect(requireReachable("NFS server", [{ host: "127.0.0.1", port }], { timeoutMs: 2000 })).rejects.toMatchObject({ kind: "unavailable" });
    expect(performance.now() - t0).toBeLessThan(1000);
    const open = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    await requireReachable("NFS server", [{ host: "127.0.0.1", port: open.port }], { connect: tcpConnect });
    open.stop(true);
  });

  test("a call past its deadline is unavailable while the work goes on; the answer is not held", async () => {
    const t0 = performance.now();
    const slow = new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(withDeadline(slow, 50, "mounting nas:/x")).rejects.toMatchObject({
      kind: "unavailable",
      message: expect.stringContaining("mounting nas:/x did not finish within 0 s"),
    });
    expect(performance.now() - t0).toBeLessThan(500);
  });
});

describe("volumes through libvirt's storage API", () => {
  const id = () => `vo${run}-dir`;
  beforeAll(async () => {
    await hv.initPool({ id: id(), type: "dir", path: join(root, "dir") });
  });

  test("create empty, copy-on-write clone, full copy, snapshot, list, attach info, delete", async () => {
    const a = await hv.createVolume(id(), { name: "a", sizeBytes: 64 * MIB, format: "qcow2", source: { kind: "empty" } });
    expect(a).toMatchObject({ name: "a.qcow2", poolId: id(), sizeBytes: 64 * MIB, format: "qcow2", path: join(root, "dir", "a.qcow2") });
    const b = await hv.createVolume(id(), { name: "b", sizeBytes: 0, format: "qcow2", source: { kind: "clone", volume: "a" } });
    expect(b).toMatchObject({ name: "b.qcow2", sizeBytes: 64 * MIB, backingPath: a.path });
    const c = await hv.cloneVolume(id(), "a", "c");
    expect(c).toMatchObject({ name: "c.qcow2", sizeBytes: 64 * MIB });
    const s = await hv.snapshotVolume(id(), "a", "s1");
    expect(s.name).toBe("a@s1.qcow2");
    expect((await hv.listVolumes(id())).map((v) => v.name)).toEqual(["a.qcow2", "a@s1.qcow2", "b.qcow2", "c.qcow2"]);
    const attach = await hv.volumeAttachInfo(id(), "a");
    expect(attach.diskXml).toContain(`<source file="${a.path}"/>`);
    await expectKind(hv.createVolume(id(), { name: "a", sizeBytes: MIB, format: "qcow2", source: { kind: "empty" } }), "already_exists");
    await expectKind(hv.deleteVolume(id(), "a"), "invalid_state");
    await hv.deleteVolume(id(), "b");
    await hv.deleteVolume(id(), "a");
    await expectKind(hv.deleteVolume(id(), "a"), "not_found");
    await expectKind(hv.createVolume(id(), { name: "x", sizeBytes: 0, format: "qcow2", source: { kind: "clone", volume: "ghost" } }), "not_found");
  });

  test("destroy undefines the pool (its files stay); default never", async () => {
    await hv.destroyPool(id());
    await expectKind(hv.getPool(id()), "not_found");
    await expectKind(hv.destroyPool("default"), "invalid_state");
    await expectKind(hv.destroyPool(`vo${run}-none`), "not_found");
  });
});
