// Bulk statistics (virConnectGetAllDomainStats / virDomainListGetStats) as plain records keyed
// by libvirt's own names ("cpu.time", "block.0.rd.bytes", ...). Absent keys stay absent.

import { ptr, read, type Pointer } from "bun:ffi";
import type { Connection } from "./connection.ts";
import { domainName, domainUuid, withDomain } from "./domain.ts";
import { fail } from "./errors.ts";
import { outPointer, pointerAt } from "./memory.ts";
import { readTypedParams, type TypedValue } from "./typed-params.ts";

export const STATS = { STATE: 1, CPU_TOTAL: 2, BALLOON: 4, VCPU: 8, INTERFACE: 16, BLOCK: 32 } as const;
export const ALL_STATS = STATS.STATE | STATS.CPU_TOTAL | STATS.BALLOON | STATS.VCPU | STATS.INTERFACE | STATS.BLOCK;
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

/** Reads and frees a NULL-terminated virDomainStatsRecordPtr array. */
function takeRecords(c: Connection, arr: Pointer | null): DomainStatsRecord[] {
  if (arr === null) return [];
  const out: DomainStatsRecord[] = [];
  try {
    for (let i = 0; ; i++) {
      const rec = pointerAt(arr, i);
      if (rec === null) break;
      // struct _virDomainStatsRecord { virDomainPtr dom; virTypedParameterPtr params; int nparams; }
      const dom = read.ptr(rec, 0) as Pointer;
      const params = read.ptr(rec, 8);
      const n = read.i32(rec, 16);
      out.push({
        uuid: domainUuid(c, dom),
        name: domainName(c, dom),
        params: params === 0 ? {} : readTypedParams(params as Pointer, n),
      });
    }
  } finally {
    c.lv.sym.virDomainStatsRecordListFree(arr);
  }
  return out;
}

export function allDomainStats(c: Connection, stats = ALL_STATS, flags = STATS_NOWAIT): DomainStatsRecord[] {
  const out = outPointer();
  if (c.lv.sym.virConnectGetAllDomainStats(c.ptr, stats, out.addr, flags) < 0) fail(c.lv, "domain stats");
  return takeRecords(c, out.value());
}

export function oneDomainStats(c: Connection, d: Pointer, stats = ALL_STATS, flags = STATS_NOWAIT): DomainStatsRecord | undefined {
  const doms = new BigUint64Array([BigInt(d), 0n]);
  const out = outPointer();
  if (c.lv.sym.virDomainListGetStats(doms, stats, out.addr, flags) < 0) fail(c.lv, "domain stats");
  return takeRecords(c, out.value())[0];
}

/**
 * The defined memory (KiB) and vCPU count of one domain (virDomainGetInfo), for drivers whose
 * bulk statistics leave them out (the test driver reports only the state).
 */
export function domainSize(c: Connection, uuid: string): { maxMemKib: number; vcpus: number } {
  // struct virDomainInfo { unsigned char state; unsigned long maxMem; unsigned long memory;
  //                        unsigned short nrVirtCpu; unsigned long long cpuTime; } (LP64)
  const info = new BigUint64Array(5);
  return withDomain(c, uuid, (d) => {
    if (c.lv.sym.virDomainGetInfo(d, ptr(info)) < 0) fail(c.lv, "domain info");
    return { maxMemKib: Number(info[1]), vcpus: Number(info[3]! & 0xffffn) };
  });
}
