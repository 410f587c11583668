// StreamMetrics with 100 subscribers at the shortest interval (250 ms): the daemon's CPU time
// per tick, next to one subscriber and to no subscriber at all, read from /proc/<pid>/stat.

import { create, toBinary } from "@bufbuild/protobuf";
import { StreamMetricsRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { cpuTimeMs } from "../lib/child.ts";
import type { BenchContext } from "../lib/context.ts";
import type { BenchRow } from "../lib/rows.ts";
import { fmt } from "../lib/stats.ts";
import { openSubscribers } from "./events.ts";
import type { Section } from "./section.ts";

const SECTION = "metrics";
const INTERVAL_MS = 250;

async function cpuPerTick(ctx: BenchContext, subscribers: number, windowMs: number) {
  const daemon = await ctx.daemon(10);
  const request = toBinary(StreamMetricsRequestSchema, create(StreamMetricsRequestSchema, { intervalMs: INTERVAL_MS }));
  // Open once every stream has had its first sample.
  const streams = subscribers === 0 ? [] : await openSubscribers(daemon, "StreamMetrics", request, subscribers, async (all) => all.every((s) => s.count > 0));
  try {
    await Bun.sleep(INTERVAL_MS * 2);
    const counts0 = streams.map((s) => s.count);
    const cpu0 = cpuTimeMs(daemon.pid);
    await Bun.sleep(windowMs);
    const cpuMs = cpuTimeMs(daemon.pid) - cpu0;
    const samples = streams.map((s, i) => s.count - counts0[i]!);
    return { cpuMsPerTick: cpuMs / (windowMs / INTERVAL_MS), minSamples: Math.min(...samples), expected: windowMs / INTERVAL_MS };
  } finally {
    for (const s of streams) s.close();
  }
}

export const metricsSection: Section = {
  name: "metrics",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const windowMs = ctx.mode === "smoke" ? 500 : ctx.mode === "quick" ? 2_000 : 4_000;
    const many = ctx.mode === "smoke" ? 3 : 100;
    const idle = await cpuPerTick(ctx, 0, windowMs);
    const one = await cpuPerTick(ctx, 1, windowMs);
    const lots = await cpuPerTick(ctx, many, windowMs);
    const rows: BenchRow[] = [];
    for (const [n, r] of [
      [0, idle],
      [1, one],
      [many, lots],
    ] as const) {
      rows.push({
        section: SECTION,
        name: `StreamMetrics every ${INTERVAL_MS} ms, ${n} subscriber${n === 1 ? "" : "s"}: daemon CPU per tick`,
        value: r.cpuMsPerTick,
        unit: "ms",
        note:
          `${fmt((100 * r.cpuMsPerTick) / INTERVAL_MS)}% of a core; 10 mock VMs` +
          (n > 0 ? `; every subscriber got >= ${r.minSamples} of ~${r.expected} samples in the window` : "") +
          (n === many ? `; ${fmt((r.cpuMsPerTick - one.cpuMsPerTick) / (many - 1))} ms more per extra subscriber` : ""),
      });
    }
    return rows;
  },
};
