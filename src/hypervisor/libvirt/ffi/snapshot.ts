// Snapshot wrappers: create, look up, list (with XML, which names each parent), revert, delete.

import type { Pointer } from "bun:ffi";
import type { Connection } from "./connection.ts";
import { fail } from "./errors.ts";
import { borrowString, cstr, outPointer, takeHandles, takeString, toPtr, usingAll } from "./memory.ts";

export function createSnapshot(c: Connection, d: Pointer, xml: string, flags: number): Pointer {
  return toPtr(c.lv.sym.virDomainSnapshotCreateXML(d, cstr(xml), flags)) ?? fail(c.lv, "create snapshot");
}

export function lookupSnapshot(c: Connection, d: Pointer, name: string): Pointer {
  return toPtr(c.lv.sym.virDomainSnapshotLookupByName(d, cstr(name), 0)) ?? fail(c.lv, `snapshot ${name}`);
}

export function freeSnapshot(c: Connection, s: Pointer): void {
  c.lv.sym.virDomainSnapshotFree(s);
}

export function withSnapshot<T>(c: Connection, d: Pointer, name: string, fn: (s: Pointer) => T): T {
  const s = lookupSnapshot(c, d, name);
  try {
    return fn(s);
  } finally {
    freeSnapshot(c, s);
  }
}

export function snapshotXml(c: Connection, s: Pointer): string {
  return takeString(c.lv, c.lv.sym.virDomainSnapshotGetXMLDesc(s, 0)) ?? fail(c.lv, "snapshot XML");
}

export function snapshotName(c: Connection, s: Pointer): string {
  return borrowString(c.lv.sym.virDomainSnapshotGetName(s)) ?? fail(c.lv, "snapshot name");
}

export function snapshotIsCurrent(c: Connection, s: Pointer): boolean {
  const r = c.lv.sym.virDomainSnapshotIsCurrent(s, 0);
  if (r < 0) fail(c.lv, "snapshot is current");
  return r === 1;
}

export function revertSnapshot(c: Connection, s: Pointer, flags = 0): void {
  if (c.lv.sym.virDomainRevertToSnapshot(s, flags) < 0) fail(c.lv, "revert snapshot");
}

export function deleteSnapshot(c: Connection, s: Pointer): void {
  if (c.lv.sym.virDomainSnapshotDelete(s, 0) < 0) fail(c.lv, "delete snapshot");
}

export function snapshotCount(c: Connection, d: Pointer): number {
  const n = c.lv.sym.virDomainSnapshotNum(d, 0);
  if (n < 0) fail(c.lv, "snapshot count");
  return n;
}

export function currentSnapshotName(c: Connection, d: Pointer): string | undefined {
  const has = c.lv.sym.virDomainHasCurrentSnapshot(d, 0);
  if (has < 0) fail(c.lv, "current snapshot");
  if (has === 0) return undefined;
  const s = toPtr(c.lv.sym.virDomainSnapshotCurrent(d, 0)) ?? fail(c.lv, "current snapshot");
  try {
    return snapshotName(c, s);
  } finally {
    freeSnapshot(c, s);
  }
}

export interface RawSnapshot {
  name: string;
  xml: string;
  current: boolean;
}

export function listSnapshots(c: Connection, d: Pointer): RawSnapshot[] {
  const out = outPointer();
  const n = c.lv.sym.virDomainListAllSnapshots(d, out.addr, 0);
  if (n < 0) fail(c.lv, "list snapshots");
  return usingAll(
    takeHandles(c.lv, out.value(), n),
    (s) => freeSnapshot(c, s),
    (handles) => handles.map((s) => ({ name: snapshotName(c, s), xml: snapshotXml(c, s), current: snapshotIsCurrent(c, s) })),
  );
}
