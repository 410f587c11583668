// The pool listing every heartbeat makes (contract 6.3) rescans a local pool only when its folder
// changed (src/hypervisor/libvirt/pool-rescan.ts), on libvirtd with QEMU (qemu:///system): files
// put into a pool's folder from outside are still counted at the next listing, an unchanged
// folder is not rescanned, and the capacity figures are the filesystem's current ones.
// Needs LIMIQUANTIX_REAL_LIBVIRT=1; its libvirt pools are named lq14e-*.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statfsSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDirPoolXml } from "../../../../src/hypervisor/libvirt/domain-xml/pool-xml.ts";
import * as ffi from "../../../../src/hypervisor/libvirt/ffi/index.ts";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import { createOps } from "../../../../src/hypervisor/libvirt/ops.ts";
import type { Hypervisor } from "../../../../src/hypervisor/types.ts";
import { REAL, realTierStorage, type RealTierStorage, URI } from "./helpers.ts";

/** Sets the folder's mtime (seconds since the epoch): "unchanged" without waiting for the clock. */
const setMtime = (path: string, t: number) => utimesSync(path, t, t);

describe.skipIf(!REAL)(`pool listing rescans on ${URI}`, () => {
  let store: RealTierStorage;
  let hv: Hypervisor;

  beforeAll(async () => {
    store = realTierStorage("lq14e-");
    hv = await createLibvirtHypervisor({ uri: URI, storagePath: store.storagePath, consoleListen: "127.0.0.1", poolName: store.poolName });
    await hv.listPools(); // the own pool is made at start
  });
  afterAll(async () => {
    await hv?.close();
    store?.remove();
  });

  test("through the backend: a file put into a pool's folder from outside is counted at the next listing, its removal too", async () => {
    const own = async () => (await hv.listPools()).find((p) => p.id === "default");
    const before = (await own())?.volumeCount ?? -1;
    expect(before).toBeGreaterThanOrEqual(0);
    const file = join(store.storagePath, "from-outside.img");
    writeFileSync(file, Buffer.alloc(4096));
    expect((await own())?.volumeCount).toBe(before + 1);
    rmSync(file);
    expect((await own())?.volumeCount).toBe(before);
    // Capacity is the filesystem's (statfs), as libvirt's rescan would compute it.
    const fs = statfsSync(store.storagePath);
    expect((await own())?.totalBytes).toBe(fs.blocks * (fs.frsize || fs.bsize));
  });

  test("in one call Worker: an unchanged folder is not rescanned; a changed one is", () => {
    const c = ffi.openConnection(ffi.loadLibvirt(), URI);
    const ops = createOps(() => c);
    const dir = mkdtempSync(join(tmpdir(), "lq14e-rescan-"));
    const name = `lq14e-rescan-${dir.slice(-6).toLowerCase()}`;
    mkdirSync(dir, { recursive: true });
    const pool = ffi.definePool(c, buildDirPoolXml({ name, path: dir }));
    try {
      ffi.startPool(c, pool);
      const count = (refresh: "changed" | true) => ops.pools(refresh).find((p) => p.name === name)?.volumeCount;
      const hourAgo = Math.floor(Date.now() / 1000) - 3600;
      const halfHourAgo = hourAgo + 1800;
      setMtime(dir, hourAgo);
      expect(count("changed")).toBe(0); // first seen: rescanned
      writeFileSync(join(dir, "a.img"), Buffer.alloc(4096));
      const seen = statSync(dir).mtimeMs;
      expect(seen).toBeGreaterThan(Date.now() - 60_000);
      expect(count("changed")).toBe(1); // the folder changed: rescanned
      // The same file set, the folder's mtime as at the last rescan: no rescan, so a file
      // slipped in under an unchanged mtime is not seen (this is how we know none ran)...
      setMtime(dir, halfHourAgo);
      expect(count("changed")).toBe(1);
      writeFileSync(join(dir, "b.img"), Buffer.alloc(4096));
      setMtime(dir, halfHourAgo);
      expect(count("changed")).toBe(1);
      // ...until something asks for a rescan, or the folder changes.
      expect(count(true)).toBe(2);
      rmSync(join(dir, "a.img"));
      expect(count("changed")).toBe(1);
    } finally {
      if (ffi.poolIsActive(c, pool)) ffi.stopPool(c, pool);
      ffi.undefinePool(c, pool);
      ffi.freePool(c, pool);
      ffi.closeConnection(c);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
