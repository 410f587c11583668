// Commands the daemon child answers when it runs the libvirt backend (bench/sections/libvirt.ts):
// lifecycle cycles through the backend in-process, the same VM read three ways (a bare FFI
// call, everything getVm gathers done by hand over FFI on this thread, and hypervisor.getVm),
// and what listVms reads for every domain, done by hand, with its XML parsed apart.

import { withDefaults } from "../../src/hypervisor/defaults.ts";
import { parseDomainXml } from "../../src/hypervisor/libvirt/domain-xml/index.ts";
import * as ffi from "../../src/hypervisor/libvirt/ffi/index.ts";
import { readStatusByHand } from "../../test/support/libvirt-reads-by-hand.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";
import { median, quantile } from "../lib/stats.ts";
import type { CommandHandler } from "./commands.ts";

const spec = (name: string) =>
  withDefaults({ name, memoryMib: 128, disks: [{ id: "root", newImage: { sizeBytes: 1 << 20 }, bootOrder: 1 }], nics: [{ id: "eth0", network: "default" }] });

async function timed(n: number, fn: () => unknown): Promise<{ p50Ms: number; p99Ms: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return { p50Ms: median(times), p99Ms: quantile(times, 0.99) };
}

export function libvirtCommands(hv: Hypervisor, uri: string): Record<string, CommandHandler> {
  let n = 0;
  return {
    /** K create/start/stop/delete cycles; cycles per second and the median of each step. */
    async cycles([k]) {
      const steps: Record<string, number[]> = { create: [], start: [], stop: [], delete: [] };
      const step = async (name: string, fn: () => Promise<unknown>) => {
        const t = performance.now();
        await fn();
        steps[name]!.push(performance.now() - t);
      };
      const t0 = performance.now();
      for (let i = 0; i < Number(k); i++) {
        const id = crypto.randomUUID();
        await step("create", () => hv.createVm(id, spec(`bench-cycle-${process.pid}-${++n}`)));
        await step("start", () => hv.startVm(id));
        await step("stop", () => hv.stopVm(id, 10_000));
        await step("delete", () => hv.deleteVm(id, { deleteDisks: true, force: false }));
      }
      const seconds = (performance.now() - t0) / 1000;
      return { perSecond: Number(k) / seconds, stepsMs: Object.fromEntries(Object.entries(steps).map(([s, t]) => [s, median(t)])) };
    },
    /** A running VM to read; its id. */
    async vm() {
      const id = crypto.randomUUID();
      await hv.createVm(id, spec(`bench-read-${process.pid}-${++n}`));
      await hv.startVm(id);
      return { id };
    },
    /**
     * What listVms's Worker reads for every domain (bulk stats once; state, inactive XML and
     * snapshots per domain), by hand on this thread, then every XML parsed: medians of K runs.
     */
    async "listing-by-hand"([count]) {
      const c = ffi.openConnection(ffi.loadLibvirt(), uri);
      try {
        let xmls: string[] = [];
        const reads = await timed(Number(count), () => {
          ffi.allDomainStats(c);
          xmls = [];
          ffi.withAllDomains(c, 0, (doms) => {
            for (const d of doms) {
              ffi.domainState(c, d);
              xmls.push(ffi.domainXml(c, d, ffi.DOMAIN_XML.INACTIVE));
              ffi.snapshotCount(c, d);
              ffi.currentSnapshotName(c, d);
            }
          });
        });
        const parse = await timed(Number(count), () => {
          for (const xml of xmls) parseDomainXml(xml);
        });
        return {
          readsMs: reads.p50Ms,
          parseMs: parse.p50Ms,
          domains: xmls.length,
          xmlBytes: xmls.reduce((n, x) => n + x.length, 0) / Math.max(1, xmls.length),
        };
      } finally {
        ffi.closeConnection(c);
      }
    },
    async reads([id, count]) {
      const runs = Number(count);
      const c = ffi.openConnection(ffi.loadLibvirt(), uri);
      try {
        const bare = await timed(runs, () => ffi.withDomain(c, id!, (d) => ffi.domainState(c, d)));
        const byHand = await timed(runs, () => readStatusByHand(c, id!));
        const backend = await timed(runs, () => hv.getVm(id!));
        return { bare, byHand, backend };
      } finally {
        ffi.closeConnection(c);
      }
    },
  };
}
