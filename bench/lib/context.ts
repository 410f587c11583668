// What every section gets: the run mode, a temp folder, and bench servers started on first
// use and shared between sections (a daemon with 10,000 VMs takes a second to fill).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Child, startChild } from "./child.ts";
import { type H2loadOptions, type H2loadResult, runH2load } from "./h2load.ts";

/** full: the real figures; quick: shorter runs; smoke: proves the suite works, times nothing. */
export type Mode = "full" | "quick" | "smoke";

export interface DaemonInfo {
  port: number;
  pid: number;
  /** The first 16 VM ids (all of them when fewer). */
  vmIds: string[];
  vmCount: number;
  /** Seconds the child took to create its VMs. */
  createS: number;
  /** With --fetch: the Bun.serve listener's port. */
  fetchPort?: number;
}

export interface ServerInfo {
  port: number;
  pid: number;
}

export interface Timing {
  /** Seconds of measured load per h2load run, and of unmeasured warm-up before it. */
  loadS: number;
  warmUpS: number;
  /** Interleaved repeats (A B A B ...); figures are medians over them. */
  rounds: number;
}

export interface BenchContext {
  mode: Mode;
  timing: Timing;
  tmp: string;
  log(message: string): void;
  /** A daemon child (mock backend) holding `vms` VMs, half of them running. */
  daemon(vms: number): Promise<Child<DaemonInfo>>;
  /** Any bench server, started once per key; it has readyTimeoutMs (default 60 s) to say READY. */
  server<Info>(key: string, script: string, args?: string[], readyTimeoutMs?: number, env?: Record<string, string>): Promise<Child<Info>>;
  /** h2load with this mode's duration (timed) or a handful of requests (smoke). */
  load(o: Omit<H2loadOptions, "durationS" | "warmUpS" | "requests">, requests?: number): Promise<H2loadResult>;
  /** Unrecorded load before the first round, so no target's first run pays for JIT warm-up (not in smoke). */
  warm(targets: Omit<H2loadOptions, "durationS" | "warmUpS" | "requests">[]): Promise<void>;
  close(): Promise<void>;
}

const TIMINGS: Record<Mode, Timing> = {
  full: { loadS: 2, warmUpS: 0.5, rounds: 3 },
  quick: { loadS: 1, warmUpS: 0.3, rounds: 2 },
  smoke: { loadS: 0, warmUpS: 0, rounds: 1 },
};

export function createContext(mode: Mode, log: (m: string) => void): BenchContext {
  const tmp = mkdtempSync(join(tmpdir(), "lq-bench-"));
  const children = new Map<string, Promise<Child<unknown>>>();
  const timing = TIMINGS[mode];

  function server<Info>(key: string, script: string, args: string[] = [], readyTimeoutMs?: number, env?: Record<string, string>): Promise<Child<Info>> {
    let child = children.get(key);
    if (!child) {
      log(`starting ${key}`);
      child = startChild<unknown>(script, args, readyTimeoutMs, env);
      children.set(key, child);
    }
    return child as Promise<Child<Info>>;
  }

  return {
    mode,
    timing,
    tmp,
    log,
    server,
    daemon: (vms) => server<DaemonInfo>(`daemon with ${vms} VMs`, "daemon.ts", ["--vms", String(vms)]),
    load(o, requests) {
      if (mode === "smoke") return runH2load({ ...o, requests: Math.max(requests ?? 20, o.clients * o.streams) });
      return runH2load({ ...o, durationS: timing.loadS, warmUpS: timing.warmUpS });
    },
    async warm(targets) {
      if (mode === "smoke") return;
      for (const o of targets) await runH2load({ ...o, durationS: 0.7, warmUpS: 0.1 });
    },
    async close() {
      const all = [...children.values()];
      children.clear();
      await Promise.all(all.map(async (c) => (await c.catch(() => undefined))?.stop()));
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
