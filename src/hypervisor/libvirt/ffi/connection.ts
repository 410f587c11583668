// Connection-level wrappers. A Connection is a plain handle; whoever opened it closes it.

import type { Pointer } from "bun:ffi";
import type { Libvirt } from "./library.ts";
import { fail } from "./errors.ts";
import { borrowString, cstr, takeString, toPtr } from "./memory.ts";

export interface Connection {
  readonly lv: Libvirt;
  readonly ptr: Pointer;
  readonly uri: string;
}

export function openConnection(lv: Libvirt, uri: string): Connection {
  const p = toPtr(lv.sym.virConnectOpen(cstr(uri)));
  if (p === null) fail(lv, `cannot connect to libvirt at ${uri}`);
  return { lv, ptr: p, uri };
}

/**
 * Drops this side's reference. Returns what virConnectClose does: 0 when the connection really
 * closed, more while handles (domains, pools...) still hold it open, -1 on error.
 */
export function closeConnection(c: Connection): number {
  return c.lv.sym.virConnectClose(c.ptr);
}

/** Client keepalive (needs the default event loop running). False when the driver has none. */
export function setKeepAlive(c: Connection, intervalSec: number, count: number): boolean {
  const r = c.lv.sym.virConnectSetKeepAlive(c.ptr, intervalSec, count);
  if (r < 0) c.lv.sym.virResetLastError();
  return r === 0;
}

export function isAlive(c: Connection): boolean {
  return c.lv.sym.virConnectIsAlive(c.ptr) === 1;
}

export { formatVersion } from "./flags.ts";

export function hypervisorVersion(c: Connection): number {
  const out = new BigUint64Array(1);
  if (c.lv.sym.virConnectGetVersion(c.ptr, out) < 0) fail(c.lv, "hypervisor version");
  return Number(out[0]);
}

export function daemonLibVersion(c: Connection): number {
  const out = new BigUint64Array(1);
  if (c.lv.sym.virConnectGetLibVersion(c.ptr, out) < 0) fail(c.lv, "libvirt version");
  return Number(out[0]);
}

export function driverType(c: Connection): string {
  return borrowString(c.lv.sym.virConnectGetType(c.ptr)) ?? fail(c.lv, "driver type");
}

export function canonicalUri(c: Connection): string {
  return takeString(c.lv, c.lv.sym.virConnectGetURI(c.ptr)) ?? fail(c.lv, "connection URI");
}

export function hostname(c: Connection): string {
  return takeString(c.lv, c.lv.sym.virConnectGetHostname(c.ptr)) ?? fail(c.lv, "hostname");
}

export function capabilitiesXml(c: Connection): string {
  return takeString(c.lv, c.lv.sym.virConnectGetCapabilities(c.ptr)) ?? fail(c.lv, "capabilities");
}

export function domainCapabilitiesXml(c: Connection, opts: { emulator?: string; arch?: string; machine?: string; virtType?: string } = {}): string {
  const s = (v?: string) => (v === undefined ? null : cstr(v));
  const p = c.lv.sym.virConnectGetDomainCapabilities(c.ptr, s(opts.emulator), s(opts.arch), s(opts.machine), s(opts.virtType), 0);
  return takeString(c.lv, p) ?? fail(c.lv, "domain capabilities");
}

export function maxVcpus(c: Connection, type?: string): number {
  const r = c.lv.sym.virConnectGetMaxVcpus(c.ptr, type === undefined ? null : cstr(type));
  if (r < 0) fail(c.lv, "max vcpus");
  return r;
}

export interface NodeInfo {
  model: string;
  memoryKib: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export function nodeInfo(c: Connection): NodeInfo {
  // struct _virNodeInfo { char model[32]; unsigned long memory; unsigned int cpus, mhz, nodes, sockets, cores, threads; }
  const buf = new Uint8Array(64);
  if (c.lv.sym.virNodeGetInfo(c.ptr, buf) < 0) fail(c.lv, "node info");
  const dv = new DataView(buf.buffer);
  const nul = buf.indexOf(0);
  return {
    model: new TextDecoder().decode(buf.subarray(0, nul < 0 || nul > 32 ? 32 : nul)),
    memoryKib: Number(dv.getBigUint64(32, true)),
    cpus: dv.getUint32(40, true),
    mhz: dv.getUint32(44, true),
    nodes: dv.getUint32(48, true),
    sockets: dv.getUint32(52, true),
    cores: dv.getUint32(56, true),
    threads: dv.getUint32(60, true),
  };
}
