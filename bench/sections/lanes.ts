// Lanes of libvirt call Workers on qemu:///system (bench/servers/lanes-scenario.ts, in a process
// of its own): GetVMStatus one call at a time with no migration and beside four live migrations
// that hold their long-lane Workers (to silent peers), and how soon a MigrateVM cancelled by its
// client ends in the daemon (its abortJob goes out on the job-control Worker at once). Needs
// LIMIQUANTIX_REAL_LIBVIRT=1 (libvirtd from scripts/setup-libvirt.sh).

import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { type BenchRow, failedRow, skippedRow } from "../lib/rows.ts";
import { fmt, median, quantile } from "../lib/stats.ts";
import type { Section } from "./section.ts";

const SECTION = "lanes";

interface Figures {
  before: number[];
  beside: number[];
  after: number[];
  cancelMs: number[];
  inProgress: number;
  running: string[];
}

const p50p99 = (xs: number[]) => `p50 ${fmt(median(xs))} ms, p99 ${fmt(quantile(xs, 0.99))} ms`;

export const lanesSection: Section = {
  name: "lanes",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    if (process.env.LIMIQUANTIX_REAL_LIBVIRT !== "1") {
      return [skippedRow(SECTION, "GetVMStatus beside 4 migrations, MigrateVM cancel", "set LIMIQUANTIX_REAL_LIBVIRT=1 (after scripts/setup-libvirt.sh)")];
    }
    const calls = ctx.mode === "smoke" ? 10 : ctx.mode === "quick" ? 100 : 200;
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "..", "servers", "lanes-scenario.ts"), String(calls)], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    const line = out.split("\n").find((l) => l.startsWith("{"));
    if (code !== 0 || line === undefined)
      return [failedRow(SECTION, new Error(`lanes-scenario exited ${code}: ${err.trim().split("\n").slice(-3).join(" | ")}`))];
    const f = JSON.parse(line) as Figures;
    const idle = [...f.before, ...f.after];
    return [
      {
        section: SECTION,
        name: "GetVMStatus p50, no migration",
        value: median(idle),
        unit: "ms",
        note: `${calls} calls one at a time before the migrations and ${calls} after, over 4 running guests: ${p50p99(idle)}`,
      },
      {
        section: SECTION,
        name: "GetVMStatus p50 beside 4 migrations",
        value: median(f.beside),
        unit: "ms",
        note: `${calls} calls one at a time while 4 live migrations (to silent peers) held the 4 long-lane Workers (${f.inProgress} still in progress after the last call): ${p50p99(f.beside)}; ${fmt(median(f.beside) / median(idle))}x the p50 with none`,
      },
      {
        section: SECTION,
        name: "MigrateVM cancel lands",
        value: median(f.cancelMs),
        unit: "ms",
        budget: { op: "<=", limit: 100 },
        note: `client abort to the end of the daemon's MigrateVM handler, abortJob sent; median of 4, max ${fmt(Math.max(...f.cancelMs))} ms; guests after: ${[...new Set(f.running)].join(", ")}. libvirt's own job ends only when the peer drops the connection it is opening (virDomainAbortJob cannot cut that short)`,
      },
    ];
  },
};
