// Beyond the floor: is another serving path faster for some clients? The same daemon process
// serves its routes twice, on its own listener (node:http2 for h2c, node:http for HTTP/1.1)
// and on Bun.serve (src/server/fetch-listener.ts). Each protocol is loaded with the same
// concurrency (32 calls in flight), interleaved, and compared path against path.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { HealthCheckRequestSchema, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { BenchContext, DaemonInfo } from "../lib/context.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { GRPC_HEADERS, type H2loadOptions, type H2loadResult, h2loadAvailable } from "../lib/h2load.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { assertAnswered, UNARY_LOAD } from "./floor.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "beyond";
const H1_LOAD = { clients: UNARY_LOAD.clients * UNARY_LOAD.streams, streams: 1, h1: true } as const;
/** Connect with JSON: what curl and scripts send. */
const CONNECT_HEADERS = ["content-type: application/json", "connect-protocol-version: 1"];
const GRPC_WEB_HEADERS = ["content-type: application/grpc-web+proto", "x-grpc-web: 1"];

function writeFile(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

interface Target {
  name: string;
  options: Omit<H2loadOptions, "durationS" | "warmUpS" | "requests">;
  minDataBytes: number;
}

export const beyondSection: Section = {
  name: "beyond",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    if (!h2loadAvailable()) return [skippedRow(SECTION, "Bun.serve vs node:http", "h2load not installed (apt-get install nghttp2-client)")];
    const daemon = await ctx.server<DaemonInfo>("daemon with 10 VMs and Bun.serve", "daemon.ts", ["--vms", "10", "--fetch"]);
    const { port, fetchPort, pid, vmIds } = daemon.info;
    const url = (p: number, method: string) => `http://127.0.0.1:${p}${NODE_SERVICE}/${method}`;
    const bodies = {
      grpc: writeGrpcBody(ctx.tmp, "beyond-health", HealthCheckRequestSchema, {}),
      connect: writeFile(ctx.tmp, "beyond-health.json", "{}"),
      grpcStatus: writeGrpcBody(ctx.tmp, "beyond-status", VMIdRequestSchema, { vmId: vmIds[0]! }),
      connectStatus: writeFile(ctx.tmp, "beyond-status.json", JSON.stringify({ vmId: vmIds[0]! })),
    };
    const targets: Target[] = [
      {
        name: "HealthCheck, gRPC over h2c, node:http2",
        options: { url: url(port, "HealthCheck"), bodyFile: bodies.grpc, headers: GRPC_HEADERS, ...UNARY_LOAD, serverPid: pid },
        minDataBytes: 10,
      },
      {
        name: "HealthCheck, Connect over HTTP/1.1, node:http",
        options: { url: url(port, "HealthCheck"), bodyFile: bodies.connect, headers: CONNECT_HEADERS, ...H1_LOAD, serverPid: pid },
        minDataBytes: 5,
      },
      {
        name: "HealthCheck, Connect over HTTP/1.1, Bun.serve",
        options: { url: url(fetchPort!, "HealthCheck"), bodyFile: bodies.connect, headers: CONNECT_HEADERS, ...H1_LOAD, serverPid: pid },
        minDataBytes: 5,
      },
      {
        name: "HealthCheck, gRPC-Web over HTTP/1.1, node:http",
        options: { url: url(port, "HealthCheck"), bodyFile: bodies.grpc, headers: GRPC_WEB_HEADERS, ...H1_LOAD, serverPid: pid },
        minDataBytes: 10,
      },
      {
        name: "HealthCheck, gRPC-Web over HTTP/1.1, Bun.serve",
        options: { url: url(fetchPort!, "HealthCheck"), bodyFile: bodies.grpc, headers: GRPC_WEB_HEADERS, ...H1_LOAD, serverPid: pid },
        minDataBytes: 10,
      },
      {
        name: "GetVMStatus, gRPC over h2c, node:http2",
        options: { url: url(port, "GetVMStatus"), bodyFile: bodies.grpcStatus, headers: GRPC_HEADERS, ...UNARY_LOAD, serverPid: pid },
        minDataBytes: 100,
      },
      {
        name: "GetVMStatus, Connect over HTTP/1.1, node:http",
        options: { url: url(port, "GetVMStatus"), bodyFile: bodies.connectStatus, headers: CONNECT_HEADERS, ...H1_LOAD, serverPid: pid },
        minDataBytes: 100,
      },
      {
        name: "GetVMStatus, Connect over HTTP/1.1, Bun.serve",
        options: { url: url(fetchPort!, "GetVMStatus"), bodyFile: bodies.connectStatus, headers: CONNECT_HEADERS, ...H1_LOAD, serverPid: pid },
        minDataBytes: 100,
      },
    ];
    const results = new Map<string, H2loadResult[]>(targets.map((t) => [t.name, []]));
    await ctx.warm(targets.map((t) => t.options));
    for (let round = 0; round < ctx.timing.rounds; round++) {
      for (const t of targets) {
        const r = await ctx.load(t.options);
        assertAnswered(t.name, r, t.minDataBytes);
        results.get(t.name)!.push(r);
      }
    }
    const rows: BenchRow[] = targets.map((t) => {
      const runs = results.get(t.name)!;
      return {
        section: SECTION,
        name: t.name,
        value: median(runs.map((r) => r.reqPerSec)),
        unit: "req/s",
        note: `p50 ${fmt(median(runs.map((r) => r.p50Ms)))} ms, p99 ${fmt(median(runs.map((r) => r.p99Ms)))} ms, ${fmt(median(runs.map((r) => r.serverCpuUsPerCall)))} µs server CPU per call`,
      };
    });
    const ratio = (a: string, b: string) => median(results.get(a)!.map((r, i) => r.reqPerSec / results.get(b)!.at(i)!.reqPerSec));
    for (const [what, method] of [
      ["Connect", "HealthCheck"],
      ["gRPC-Web", "HealthCheck"],
      ["Connect", "GetVMStatus"],
    ] as const) {
      rows.push({
        section: SECTION,
        name: `${method}, ${what} over HTTP/1.1: Bun.serve / node:http`,
        value: ratio(`${method}, ${what} over HTTP/1.1, Bun.serve`, `${method}, ${what} over HTTP/1.1, node:http`),
        unit: "x",
        note: "median of per-round ratios of req/s; above 1: Bun.serve is faster",
      });
    }
    rows.push({
      section: SECTION,
      name: "HealthCheck, Connect on Bun.serve / gRPC on node:http2",
      value: ratio("HealthCheck, Connect over HTTP/1.1, Bun.serve", "HealthCheck, gRPC over h2c, node:http2"),
      unit: "x",
      note: "the fastest HTTP/1.1 path against the control plane's path",
    });
    return rows;
  },
};
