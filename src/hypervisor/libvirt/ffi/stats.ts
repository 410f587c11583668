// Bulk statistics (virConnectGetAllDomainStats / virDomainListGetStats) as plain records keyed
// by libvirt's own names ("cpu.time", "block.0.rd.bytes", ...). Absent keys stay absent.

import { ptr, read, type Pointer } from "bun:ffi";
import type { Connection } from "./connection.ts";
import { domainName, domainUuid, withDomain } from "./domain.ts";
import { fail } from "./errors.ts";
import { outPointer, pointerAt } from "./memory.ts";
import { createParamScratch, type ParamVisitor, type TypedParamBytes, typedParamBytes, type TypedValue, visitTypedParams } from "./typed-params.ts";

const NO_PARAMS = typedParamBytes(new ArrayBuffer(0));
/** This thread's copy of the record being read (each Worker has its own module instance). */
const paramScratch = createParamScratch();

export const STATS = { STATE: 1, CPU_TOTAL: 2, BALLOON: 4, VCPU: 8, INTERFACE: 16, BLOCK: 32 } as const;
export const ALL_STATS = STATS.STATE | STATS.CPU_TOTAL | STATS.BALLOON | STATS.VCPU | STATS.INTERFACE | STATS.BLOCK;
/**
 * A metrics tick's groups: all but VCPU. On KVM the qemu driver answers VCPU with QEMU's
 * query-stats, ~50 figures per vCPU (libvirtd asks each QEMU, ~1 ms per VM), of which a tick
 * needs only the count; the count comes from virDomainGetInfo instead, read again now and then
 * (vm-sizes.ts).
 */
export const METRICS_STATS = ALL_STATS & ~STATS.VCPU;
/**
 * VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT: skip figures that need the domain's job lock, so a
 * status read or a metrics tick never waits behind a long job (a detach, a snapshot) on the VM.
 */
export const STATS_NOWAIT = 1 << 29;

export interface DomainStatsRecord {
  uuid: string;
  name: string;
  params: Record<string, TypedValue>;
}

/**
 * One record while libvirt's list is still held: the domain's handle (for calls on it), its
 * UUID and name, and its parameters, visited in place (valid only during the callback).
 */
export interface StatsRecordView {
  dom: Pointer;
  uuid: string;
  name: string;
  visitParams(visit: ParamVisitor): void;
  /**
   * The parameters as typed views, for readers that keep a few of many (typed-params.ts): a copy
   * in a buffer the next record's params() reuses.
   */
  params(): TypedParamBytes;
}

type EachRecord<T> = (record: StatsRecordView) => T;
const asRecord: EachRecord<DomainStatsRecord> = (r) => {
  const params: Record<string, TypedValue> = {};
  r.visitParams((name, value) => {
    params[name] = value;
  });
  return { uuid: r.uuid, name: r.name, params };
};

/** Reads and frees a NULL-terminated virDomainStatsRecordPtr array, each record through each. */
function takeRecords<T>(c: Connection, arr: Pointer | null, each: EachRecord<T>): T[] {
  if (arr === null) return [];
  const out: T[] = [];
  try {
    for (let i = 0; ; i++) {
      const rec = pointerAt(arr, i);
      if (rec === null) break;
      // struct _virDomainStatsRecord { virDomainPtr dom; virTypedParameterPtr params; int nparams; }
      const dom = read.ptr(rec, 0) as Pointer;
      const params = read.ptr(rec, 8);
      const n = read.i32(rec, 16);
      out.push(
        each({
          dom,
          uuid: domainUuid(c, dom),
          name: domainName(c, dom),
          visitParams: (visit) => {
            if (params !== 0) visitTypedParams(params as Pointer, n, visit);
          },
          params: () => (params === 0 || n <= 0 ? NO_PARAMS : paramScratch.copy(c.lv.copyInto, params as Pointer, n)),
        }),
      );
    }
  } finally {
    c.lv.sym.virDomainStatsRecordListFree(arr);
  }
  return out;
}

export function allDomainStats(c: Connection, stats?: number, flags?: number): DomainStatsRecord[];
export function allDomainStats<T>(c: Connection, stats: number, flags: number, each: EachRecord<T>): T[];
export function allDomainStats<T>(c: Connection, stats = ALL_STATS, flags = STATS_NOWAIT, each?: EachRecord<T>): (T | DomainStatsRecord)[] {
  const out = outPointer();
  if (c.lv.sym.virConnectGetAllDomainStats(c.ptr, stats, out.addr, flags) < 0) fail(c.lv, "domain stats");
  return takeRecords<T | DomainStatsRecord>(c, out.value(), each ?? asRecord);
}

export function oneDomainStats(c: Connection, d: Pointer, stats = ALL_STATS, flags = STATS_NOWAIT): DomainStatsRecord | undefined {
  const doms = new BigUint64Array([BigInt(d), 0n]);
  const out = outPointer();
  if (c.lv.sym.virDomainListGetStats(doms, stats, out.addr, flags) < 0) fail(c.lv, "domain stats");
  return takeRecords(c, out.value(), asRecord)[0];
}

/** A domain's defined memory (KiB) and current vCPU count. */
export interface DomainSize {
  maxMemKib: number;
  vcpus: number;
}

/** The size of the domain behind a handle (virDomainGetInfo: one RPC, no monitor call). */
export function sizeOfDomain(c: Connection, d: Pointer): DomainSize {
  // struct virDomainInfo { unsigned char state; unsigned long maxMem; unsigned long memory;
  //                        unsigned short nrVirtCpu; unsigned long long cpuTime; } (LP64)
  const info = new BigUint64Array(5);
  if (c.lv.sym.virDomainGetInfo(d, ptr(info)) < 0) fail(c.lv, "domain info");
  return { maxMemKib: Number(info[1]), vcpus: Number(info[3]! & 0xffffn) };
}

/** The defined memory (KiB) and vCPU count of one domain, by UUID. */
export function domainSize(c: Connection, uuid: string): DomainSize {
  return withDomain(c, uuid, (d) => sizeOfDomain(c, d));
}

/** VIR_DOMAIN_ID's "not running": virDomainGetID's answer for an inactive domain ((unsigned) -1). */
export const NO_DOMAIN_ID = 0xffffffff;

/**
 * The domain's run: libvirt numbers each start of a domain anew, so a changed ID means it was
 * started again (its definition may have changed). Read from the handle, no RPC.
 */
export function domainRunId(c: Connection, d: Pointer): number {
  return c.lv.sym.virDomainGetID(d);
}
