// The serving floor: a bare connect-node server vs the daemon's HealthCheck and GetVMStatus,
// all three loaded by the same h2load (gRPC over h2c), interleaved round by round so the
// machine's noise hits them alike. Ratios are taken per round, then the median is reported.

import { HealthCheckRequestSchema, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { BenchContext, ServerInfo } from "../lib/context.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { GRPC_HEADERS, type H2loadOptions, type H2loadResult, h2loadAvailable } from "../lib/h2load.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

/** Concurrency of every unary load: 4 connections x 8 streams, like a busy control plane. */
export const UNARY_LOAD = { clients: 4, streams: 8 } as const;
const SECTION = "floor";
const FLOOR_ROUNDS = 7;

interface Target {
  name: string;
  options: Omit<H2loadOptions, "durationS" | "warmUpS" | "requests">;
  /** A success carries a message; a gRPC error comes back with no DATA at all. */
  minDataBytes: number;
}

export function assertAnswered(name: string, r: H2loadResult, minDataBytes: number): void {
  if (r.succeeded === 0 || r.failed > 0) throw new Error(`${name}: ${r.failed} of ${r.succeeded + r.failed} requests failed`);
  if (!(r.dataBytesPerRequest >= minDataBytes)) {
    throw new Error(`${name}: ${fmt(r.dataBytesPerRequest)} response bytes per call; the server answered with gRPC errors`);
  }
}

export const floorSection: Section = {
  name: "floor",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    if (!h2loadAvailable()) return [skippedRow(SECTION, "serving floor", "h2load not installed (apt-get install nghttp2-client)")];
    const [floor, daemon] = await Promise.all([ctx.server<ServerInfo>("floor server", "floor.ts"), ctx.daemon(10)]);
    const health = writeGrpcBody(ctx.tmp, "health", HealthCheckRequestSchema, {});
    const status = writeGrpcBody(ctx.tmp, "status", VMIdRequestSchema, { vmId: daemon.info.vmIds[0]! });
    const grpc = (server: ServerInfo, method: string, bodyFile: string) => ({
      url: `http://127.0.0.1:${server.port}${NODE_SERVICE}/${method}`,
      bodyFile,
      headers: GRPC_HEADERS,
      serverPid: server.pid,
      ...UNARY_LOAD,
    });
    const targets: Target[] = [
      { name: "floor HealthCheck", options: grpc(floor.info, "HealthCheck", health), minDataBytes: 10 },
      { name: "daemon HealthCheck", options: grpc(daemon.info, "HealthCheck", health), minDataBytes: 10 },
      { name: "daemon GetVMStatus", options: grpc(daemon.info, "GetVMStatus", status), minDataBytes: 100 },
    ];
    const results = new Map<string, H2loadResult[]>(targets.map((t) => [t.name, []]));
    await ctx.warm(targets.map((t) => t.options));
    // The budgets are ratios of close figures: more, shorter rounds than elsewhere.
    const rounds = ctx.mode === "full" ? FLOOR_ROUNDS : ctx.timing.rounds;
    for (let round = 0; round < rounds; round++) {
      for (const t of targets) {
        const r = await ctx.load(t.options);
        assertAnswered(t.name, r, t.minDataBytes);
        results.get(t.name)!.push(r);
      }
    }
    const rows: BenchRow[] = [];
    for (const t of targets) rows.push(...throughputRows(SECTION, t.name, results.get(t.name)!));
    const floorRuns = results.get("floor HealthCheck")!;
    const ratio = (name: string) => median(results.get(name)!.map((r, i) => r.reqPerSec / floorRuns[i]!.reqPerSec));
    // Server CPU per call, inverted: the share of the floor's calls per CPU-second the daemon
    // reaches. Other processes steal wall time, not CPU time, so this moves far less than req/s.
    const cpuRatio = (name: string) => median(results.get(name)!.map((r, i) => floorRuns[i]!.serverCpuUsPerCall / r.serverCpuUsPerCall));
    for (const [method, limit] of [
      ["HealthCheck", 0.9],
      ["GetVMStatus", 0.8],
    ] as const) {
      const name = `daemon ${method}`;
      rows.push({
        section: SECTION,
        name: `${method} / floor`,
        value: ratio(name),
        unit: "x",
        budget: { op: ">=", limit },
        note: "median of per-round ratios of req/s",
      });
      rows.push({
        section: SECTION,
        name: `${method} / floor, by server CPU per call`,
        value: cpuRatio(name),
        unit: "x",
        note: `floor ${fmt(median(floorRuns.map((r) => r.serverCpuUsPerCall)))} µs, daemon ${fmt(median(results.get(name)!.map((r) => r.serverCpuUsPerCall)))} µs of CPU per call`,
      });
    }
    rows.push(...(await generatorRows(ctx, targets[0]!.options, [...results.values()].flat())));
    return rows;
  },
};

export function throughputRows(section: string, name: string, runs: H2loadResult[]): BenchRow[] {
  const p50 = median(runs.map((r) => r.p50Ms));
  const p99 = median(runs.map((r) => r.p99Ms));
  return [
    {
      section,
      name: `${name} req/s`,
      value: median(runs.map((r) => r.reqPerSec)),
      unit: "req/s",
      note: `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms; median of ${runs.length} runs (${runs.map((r) => fmt(r.reqPerSec)).join(", ")})`,
    },
  ];
}

/** Is h2load itself the limit? Its CPU use per thread, and the floor with two threads vs one. */
async function generatorRows(ctx: BenchContext, floor: Target["options"], all: H2loadResult[]): Promise<BenchRow[]> {
  const rows: BenchRow[] = [
    {
      section: SECTION,
      name: "h2load CPU, busiest run",
      value: Math.max(...all.map((r) => r.generatorCpuPercent)),
      unit: "% of a core",
      budget: { op: "<=", limit: 80 },
      note: "validity check: the generator must not be the bottleneck",
    },
  ];
  if (ctx.mode === "smoke") return rows;
  const one: number[] = [];
  const two: number[] = [];
  for (let round = 0; round < 2; round++) {
    one.push((await ctx.load(floor)).reqPerSec);
    two.push((await ctx.load({ ...floor, threads: 2 })).reqPerSec);
  }
  rows.push({
    section: SECTION,
    name: "floor with 2 h2load threads / 1",
    value: median(two) / median(one),
    unit: "x",
    note: "near 1 (or below: the threads take the server's core): one thread is enough",
  });
  return rows;
}
