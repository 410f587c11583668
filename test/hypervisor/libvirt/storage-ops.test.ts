// The storage ops and their FFI wrappers over libvirt's test:///default driver, called directly
// (no Worker): pools defined, adopted, refused; volumes created, sized, resized; every handle
// freed. The test driver keeps no files and has no volume resize: those run in the real tier.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import { createOps } from "../../../src/hypervisor/libvirt/ops.ts";
import { buildDirPoolXml, parsePoolXml } from "../../../src/hypervisor/libvirt/domain-xml/pool-xml.ts";
import { buildVolumeXml } from "../../../src/hypervisor/libvirt/domain-xml/storage-xml.ts";
import { initPoolDecision, libvirtPoolName, poolIdOf, validatePoolDefinition } from "../../../src/hypervisor/libvirt/pool-rules.ts";
import type { HypervisorError } from "../../../src/hypervisor/errors.ts";

const lv = ffi.loadLibvirt();
let c: ffi.Connection;
let ops: ReturnType<typeof createOps>;
let dir: string;
const OWN = "lq-own";

beforeAll(() => {
  c = ffi.openConnection(lv, "test:///default");
  ops = createOps(() => c);
  dir = mkdtempSync(join(tmpdir(), "lq-storage-ops-"));
});
afterAll(() => {
  ffi.forEachPool(c, 0, (p) => {
    if (ffi.poolName(c, p).startsWith("lq-so-") || ffi.poolName(c, p).startsWith("5e0c")) {
      if (ffi.poolIsActive(c, p)) ffi.stopPool(c, p);
      ffi.undefinePool(c, p);
    }
  });
  ffi.closeConnection(c);
  rmSync(dir, { recursive: true, force: true });
});

const thrown = (fn: () => unknown): HypervisorError => {
  try {
    fn();
  } catch (err) {
    return err as HypervisorError;
  }
  throw new Error("did not throw");
};

describe("pool rules (pure)", () => {
  test("ids map to libvirt names: default is the node's own pool; libvirt's own default is not ours", () => {
    expect(libvirtPoolName("default", OWN)).toBe(OWN);
    expect(libvirtPoolName("fast", OWN)).toBe("fast");
    expect(poolIdOf(OWN, OWN)).toBe("default");
    expect(poolIdOf("default", OWN)).toBeUndefined();
    expect(poolIdOf("fast", OWN)).toBe("fast");
  });

  test.each([
    ["a bad id", { id: "a b", type: "dir", path: "/x" }, "pool_id"],
    ["the own pool's libvirt name as an id", { id: OWN, type: "dir", path: "/x" }, "pool_id"],
    ["a relative path", { id: "p", type: "dir", path: "x" }, "config.local.path"],
    ["a path with ..", { id: "p", type: "dir", path: "/a/../b" }, "config.local.path"],
    ["the root", { id: "p", type: "dir", path: "/" }, "config.local.path"],
    ["a negative cap", { id: "p", type: "dir", path: "/x", capacityBytes: -1 }, "config.local.capacity_gib"],
  ] as const)("refuses %s", (_n, def, field) => {
    expect(thrown(() => validatePoolDefinition(def, OWN))).toMatchObject({ kind: "invalid_argument", field });
  });

  test("init: adopt the same, define the new, refuse conflicts naming both sides and the fix", () => {
    const want = { id: "p1", name: "p1", path: "/srv/p1" };
    expect(initPoolDecision(want, {}, OWN)).toBe("define");
    expect(initPoolDecision(want, { byName: { type: "dir", name: "p1", targetPath: "/srv/p1/" } }, OWN)).toBe("adopt");
    const moved = thrown(() => initPoolDecision(want, { byName: { type: "dir", name: "p1", targetPath: "/srv/old" } }, OWN));
    expect(moved.kind).toBe("already_exists");
    expect(moved.message).toBe(
      "storage pool p1 already exists at /srv/old, not at /srv/p1; to move it, remove it first (virsh pool-destroy p1; virsh pool-undefine p1; its files stay) and initialise it again",
    );
    expect(thrown(() => initPoolDecision(want, { byName: { type: "logical", name: "p1" } }, OWN)).message).toContain("as a logical pool");
    expect(thrown(() => initPoolDecision(want, { byPath: OWN }, OWN)).message).toBe(
      "/srv/p1 is already the directory of the node's own storage (default); a directory can be only one pool",
    );
    expect(thrown(() => initPoolDecision({ ...want, uuid: "u" }, { byUuid: "other" }, OWN)).message).toContain("uuid u (storage pool other)");
  });
});

describe("pool ops on the test driver", () => {
  const ID = "5e0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

  test("a new pool is defined persistent, built, started and autostarted; its uuid is its id", () => {
    const path = join(dir, "p1");
    const xml = buildDirPoolXml({ name: ID, uuid: ID, path });
    const { pool, created } = ops.initDirPool({ id: ID, name: ID, path, uuid: ID }, xml, OWN);
    expect(created).toBe(true);
    expect(pool).toMatchObject({ name: ID, uuid: ID, state: ffi.POOL_STATE.RUNNING, autostart: true, persistent: true, volumeCount: 0 });
    expect(parsePoolXml(pool.xml).targetPath).toBe(path);
    expect(pool.capacity).toBeGreaterThan(0);
  });

  test("init again with the same path adopts it; an inactive one is started again", () => {
    const path = join(dir, "p1");
    ffi.withPoolNamed(c, ID, (p) => ffi.stopPool(c, p));
    const { pool, created } = ops.initDirPool({ id: ID, name: ID, path, uuid: ID }, buildDirPoolXml({ name: ID, uuid: ID, path }), OWN);
    expect(created).toBe(false);
    expect(pool.state).toBe(ffi.POOL_STATE.RUNNING);
  });

  test("init with another path, or another id on the same path, is already_exists", () => {
    const other = join(dir, "elsewhere");
    const moved = thrown(() => ops.initDirPool({ id: ID, name: ID, path: other }, buildDirPoolXml({ name: ID, path: other }), OWN));
    expect(moved.kind).toBe("already_exists");
    expect(moved.message).toContain(join(dir, "p1"));
    expect(moved.message).toContain(other);
    const twin = thrown(() =>
      ops.initDirPool({ id: "lq-so-twin", name: "lq-so-twin", path: join(dir, "p1") }, buildDirPoolXml({ name: "lq-so-twin", path: join(dir, "p1") }), OWN),
    );
    expect(twin).toMatchObject({ kind: "already_exists" });
    expect(twin.message).toContain(`is already the directory of storage pool ${ID}`);
    expect(ops.pool("lq-so-twin", false)).toBeNull();
  });

  test("pools lists directory pools with figures; pool by name; unknown is null", () => {
    const all = ops.pools(true);
    const mine = all.find((p) => p.name === ID);
    expect(mine).toMatchObject({ uuid: ID, autostart: true });
    // The test driver's own pool is there too.
    expect(all.some((p) => p.name === "default-pool")).toBe(true);
    expect(ops.pool(ID, true)?.name).toBe(ID);
    expect(ops.pool("lq-so-nope", false)).toBeNull();
  });

  test("every listed pool carries its definition parsed (the API thread does not parse it again), the same as parsing its XML", () => {
    for (const refresh of [false, true, "changed"] as const) {
      for (const p of ops.pools(refresh)) expect(p.parsed).toEqual(parsePoolXml(p.xml));
    }
    expect(ops.pools("changed").find((p) => p.name === ID)?.parsed).toMatchObject({ type: "dir", targetPath: join(dir, "p1") });
  });

  test("volumes: created in a pool by name, counted, sized; resize never shrinks, then the driver says unsupported", () => {
    const path = ops.createVolume(ID, buildVolumeXml({ name: "v1.qcow2", sizeBytes: 1 << 20, format: "qcow2" }));
    expect(path).toBe(join(dir, "p1", "v1.qcow2"));
    expect(ops.pool(ID, true)?.volumeCount).toBe(1);
    const size = ffi.withVolumeAt(c, path, (v) => ffi.volumeInfo(c, v));
    expect(size?.capacity).toBe(1 << 20);
    expect(ops.resizeVolume(path, 1 << 20, "v1")).toEqual({ before: 1 << 20, after: 1 << 20 });
    expect(thrown(() => ops.resizeVolume(path, 512 * 1024, "v1"))).toMatchObject({ kind: "invalid_argument", field: "new_size_bytes" });
    expect(thrown(() => ops.resizeVolume(path, 2 << 20, "v1"))).toMatchObject({ kind: "unsupported" });
    expect(thrown(() => ops.resizeVolume(join(dir, "p1", "none.qcow2"), 2 << 20, "none"))).toMatchObject({ kind: "not_found" });
    expect(ops.deleteVolume(path)).toBe(true);
    expect(ops.deleteVolume(path)).toBe(false);
  });

  test("creating a volume in a pool libvirt does not have is not_found", () => {
    expect(thrown(() => ops.createVolume("lq-so-missing", buildVolumeXml({ name: "x.raw", sizeBytes: 1 << 20, format: "raw" })))).toMatchObject({
      kind: "not_found",
    });
  });

  test("10k pool listings keep RSS flat (every handle, array and XML string is freed)", () => {
    const round = (n: number) => {
      for (let i = 0; i < n; i++) ops.pools(false);
    };
    // RSS in a process that ran other test files first swings by tens of MB, once, as the allocator
    // takes and returns arenas (CI runs saw +16.6, +4.8, +0.8 MiB per round, and -1.7, +25.7,
    // -0.7); a leak grows by the same amount every round. So the smallest growth of a round after
    // the first is judged.
    const rss = () => {
      Bun.gc(true);
      return process.memoryUsage().rss;
    };
    round(2000);
    const totals: number[] = [rss()];
    for (let r = 0; r < 3; r++) {
      round(5000);
      totals.push(rss());
    }
    const growth = totals.slice(1).map((t, i) => t - (totals[i] ?? t));
    console.info(`RSS growth per 5,000 pool listings: ${growth.map((s) => (s / 2 ** 20).toFixed(1)).join(", ")} MiB`);
    // ~1 KB of pool XML and two handles per pool per listing: a leak would add ~15 MB to every round.
    expect(Math.min(...growth.slice(1))).toBeLessThan(6 * 1024 * 1024);
  }, 30_000);
});
