// When a pool listing rescans a local pool (src/hypervisor/libvirt/pool-rescan.ts), and the
// capacity figures it reads from statfs instead. Pure; the real tier proves the listing uses it
// (test/hypervisor/libvirt/real/real-pool-rescan.test.ts).

import { describe, expect, test } from "bun:test";
import { dirPoolFigures, FOLDER_SETTLE_MS, POOL_RESCAN_MAX_AGE_MS, poolRescanDue } from "../../../src/hypervisor/libvirt/pool-rescan.ts";

const T = 1_000_000_000;
const settled = { folderMtimeMs: T - 60_000, at: T };

describe("poolRescanDue", () => {
  test("a pool never rescanned is rescanned", () => {
    expect(poolRescanDue(undefined, T - 60_000, T)).toBe(true);
    expect(poolRescanDue(undefined, undefined, T)).toBe(true);
  });

  test("an unchanged, settled folder is not rescanned until the last rescan is old", () => {
    expect(poolRescanDue(settled, settled.folderMtimeMs, T + 30_000)).toBe(false);
    expect(poolRescanDue(settled, settled.folderMtimeMs, T + POOL_RESCAN_MAX_AGE_MS - 1)).toBe(false);
    expect(poolRescanDue(settled, settled.folderMtimeMs, T + POOL_RESCAN_MAX_AGE_MS)).toBe(true);
  });

  test("a folder whose mtime moved (a file added, removed, renamed) is rescanned", () => {
    expect(poolRescanDue(settled, T + 10, T + 30_000)).toBe(true);
  });

  test("a folder gone since the last rescan is rescanned (the rescan reports why)", () => {
    expect(poolRescanDue(settled, undefined, T + 30_000)).toBe(true);
  });

  test("a rescan right after a change is not trusted: the same mtime tick may hide a later change", () => {
    const fresh = { folderMtimeMs: T - FOLDER_SETTLE_MS + 1, at: T };
    expect(poolRescanDue(fresh, fresh.folderMtimeMs, T + 30_000)).toBe(true);
    const justSettled = { folderMtimeMs: T - FOLDER_SETTLE_MS, at: T };
    expect(poolRescanDue(justSettled, justSettled.folderMtimeMs, T + 30_000)).toBe(false);
  });

  test("a pool without a folder (logical) is rescanned on the cadence only", () => {
    const lvm = { folderMtimeMs: undefined, at: T };
    expect(poolRescanDue(lvm, undefined, T + 60_000)).toBe(false);
    expect(poolRescanDue(lvm, undefined, T + POOL_RESCAN_MAX_AGE_MS)).toBe(true);
  });

  test("a clock that went back rescans (the age cannot be trusted)", () => {
    expect(poolRescanDue(settled, settled.folderMtimeMs, T - 1)).toBe(true);
  });
});

describe("dirPoolFigures", () => {
  test("libvirt's directory pool arithmetic: capacity all blocks, available what users may take, allocation what is used", () => {
    expect(dirPoolFigures({ blocks: 1000, bfree: 300, bavail: 250, frsize: 4096, bsize: 8192 })).toEqual({
      capacity: 1000 * 4096,
      allocation: 700 * 4096,
      available: 250 * 4096,
    });
  });

  test("without a fragment size the block size counts", () => {
    expect(dirPoolFigures({ blocks: 10, bfree: 5, bavail: 4, frsize: 0, bsize: 512 }).capacity).toBe(5120);
  });
});
