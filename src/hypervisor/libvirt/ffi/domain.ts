// Domain wrappers. Handles are looked up by UUID string and freed by whoever looked them up;
// withDomain does both around a function.

import type { Pointer } from "bun:ffi";
import type { Connection } from "./connection.ts";
import { fail, missingObject } from "./errors.ts";
import { borrowString, cstr, outPointer, takeHandles, takeString, toPtr, usingAll } from "./memory.ts";
import { buildParams, type ParamValues, readTypedParams, type TypedValue } from "./typed-params.ts";

export { AFFECT, BLOCK_RESIZE, DEVICE_MODIFY, DOMAIN_XML, MIGRATE, UNDEFINE } from "./flags.ts";
import { BLOCK_RESIZE } from "./flags.ts";

export function lookupDomain(c: Connection, uuid: string): Pointer {
  return toPtr(c.lv.sym.virDomainLookupByUUIDString(c.ptr, cstr(uuid))) ?? fail(c.lv, `lookup ${uuid}`);
}

/** The handle, or null when no domain has that name (other errors still throw). */
export function lookupDomainByName(c: Connection, name: string): Pointer | null {
  const d = toPtr(c.lv.sym.virDomainLookupByName(c.ptr, cstr(name)));
  if (d === null) {
    try {
      fail(c.lv);
    } catch (err) {
      if (missingObject(err) === "domain") return null;
      throw err;
    }
  }
  return d;
}

export function freeDomain(c: Connection, d: Pointer): void {
  c.lv.sym.virDomainFree(d);
}

/** Runs fn over every domain's handle (flags: virConnectListAllDomainsFlags); all are freed after, whatever fn does. */
export function withAllDomains<T>(c: Connection, flags: number, fn: (domains: readonly Pointer[]) => T): T {
  const out = outPointer();
  const n = c.lv.sym.virConnectListAllDomains(c.ptr, out.addr, flags);
  if (n < 0) fail(c.lv, "list domains");
  return usingAll(takeHandles(c.lv, out.value(), n), (d) => freeDomain(c, d), fn);
}

export function withDomain<T>(c: Connection, uuid: string, fn: (d: Pointer) => T): T {
  const d = lookupDomain(c, uuid);
  try {
    return fn(d);
  } finally {
    freeDomain(c, d);
  }
}

export function defineDomain(c: Connection, xml: string, flags = 0): Pointer {
  return toPtr(c.lv.sym.virDomainDefineXMLFlags(c.ptr, cstr(xml), flags)) ?? fail(c.lv, "define domain");
}

function check(c: Connection, r: number, what: string): void {
  if (r < 0) fail(c.lv, what);
}

export const createDomain = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainCreate(d), "start");
export const shutdownDomain = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainShutdown(d), "shutdown");
export const destroyDomain = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainDestroy(d), "force stop");
export const rebootDomain = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainReboot(d, 0), "reboot");
export const suspendDomain = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainSuspend(d), "pause");
export const resumeDomain = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainResume(d), "resume");
/** Wakes a guest that suspended itself (PMSUSPENDED). */
export const wakeDomain = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainPMWakeup(d, 0), "wake up");
/** Freezes every guest filesystem through the QEMU guest agent; returns how many it froze. */
export function freezeFilesystems(c: Connection, d: Pointer): number {
  const n = c.lv.sym.virDomainFSFreeze(d, null, 0, 0);
  if (n < 0) fail(c.lv, "freeze guest filesystems");
  return n;
}
export function thawFilesystems(c: Connection, d: Pointer): number {
  const n = c.lv.sym.virDomainFSThaw(d, null, 0, 0);
  if (n < 0) fail(c.lv, "thaw guest filesystems");
  return n;
}
export const undefineDomain = (c: Connection, d: Pointer, flags: number) => check(c, c.lv.sym.virDomainUndefineFlags(d, flags), "undefine");
export const attachDevice = (c: Connection, d: Pointer, xml: string, flags: number) =>
  check(c, c.lv.sym.virDomainAttachDeviceFlags(d, cstr(xml), flags), "attach device");
export const detachDevice = (c: Connection, d: Pointer, xml: string, flags: number) =>
  check(c, c.lv.sym.virDomainDetachDeviceFlags(d, cstr(xml), flags), "detach device");
export const updateDevice = (c: Connection, d: Pointer, xml: string, flags: number) =>
  check(c, c.lv.sym.virDomainUpdateDeviceFlags(d, cstr(xml), flags), "update device");
/** Resizes the disk with guest device name target to bytes while the domain runs (the guest sees it). */
export const blockResize = (c: Connection, d: Pointer, target: string, bytes: number) =>
  check(c, c.lv.sym.virDomainBlockResize(d, cstr(target), BigInt(bytes), BLOCK_RESIZE.BYTES), `resize disk ${target}`);
/** Replaces our metadata element (VIR_DOMAIN_METADATA_ELEMENT) under prefix/namespace. */
export const setMetadataElement = (c: Connection, d: Pointer, xml: string, prefix: string, ns: string, flags: number) =>
  check(c, c.lv.sym.virDomainSetMetadata(d, 2, cstr(xml), cstr(prefix), cstr(ns), flags), "set metadata");
export const abortJob = (c: Connection, d: Pointer) => check(c, c.lv.sym.virDomainAbortJob(d), "abort job");
export const setMaxDowntime = (c: Connection, d: Pointer, ms: number) =>
  check(c, c.lv.sym.virDomainMigrateSetMaxDowntime(d, BigInt(ms), 0), "set max downtime");

export interface DomainState {
  /** virDomainState: 0 nostate, 1 running, 2 blocked, 3 paused, 4 shutdown, 5 shutoff, 6 crashed, 7 pmsuspended */
  state: number;
  reason: number;
}

export function domainState(c: Connection, d: Pointer): DomainState {
  const st = new Int32Array(2);
  check(c, c.lv.sym.virDomainGetState(d, st.subarray(0, 1), st.subarray(1, 2), 0), "state");
  return { state: st[0] ?? 0, reason: st[1] ?? 0 };
}

export function domainXml(c: Connection, d: Pointer, flags = 0): string {
  return takeString(c.lv, c.lv.sym.virDomainGetXMLDesc(d, flags)) ?? fail(c.lv, "domain XML");
}

export function domainUuid(c: Connection, d: Pointer): string {
  const buf = new Uint8Array(37); // VIR_UUID_STRING_BUFLEN
  check(c, c.lv.sym.virDomainGetUUIDString(d, buf), "uuid");
  return new TextDecoder().decode(buf.subarray(0, 36));
}

export function domainName(c: Connection, d: Pointer): string {
  return borrowString(c.lv.sym.virDomainGetName(d)) ?? fail(c.lv, "name");
}

export interface JobStats {
  /** virDomainJobType: 0 none, 1 bounded, 2 unbounded, 3 completed, 4 failed, 5 cancelled */
  type: number;
  params: Record<string, TypedValue>;
}

export function jobStats(c: Connection, d: Pointer): JobStats {
  const type = new Int32Array(1);
  const params = outPointer();
  const n = new Int32Array(1);
  check(c, c.lv.sym.virDomainGetJobStats(d, type, params.addr, n, 0), "job stats");
  const p = params.value();
  if (p === null) return { type: type[0] ?? 0, params: {} };
  try {
    return { type: type[0] ?? 0, params: readTypedParams(p, n[0] ?? 0) };
  } finally {
    c.lv.sym.virTypedParamsFree(p, n[0] ?? 0);
  }
}

/** Blocks this thread until the migration ends (run it on a worker that nothing else waits on). */
export function migrateToUri(c: Connection, d: Pointer, targetUri: string, flags: number, params: ParamValues): void {
  const list = buildParams(c.lv, params);
  try {
    check(c, c.lv.sym.virDomainMigrateToURI3(d, cstr(targetUri), list.params, list.count, flags), `migrate to ${targetUri}`);
  } finally {
    list.free();
  }
}
