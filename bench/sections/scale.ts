// How the cost grows with the number of VMs: ListVMs (every VM in one answer) and GetVMStatus
// (one VM) against daemons holding 10, 1,000 and 10,000 mock VMs. ListVMs is timed one call
// at a time (latency), side by side with the floor server sending answers of the same VMs
// encoded once at its start (bench/servers/floor.ts): the least any server must do to send
// that many bytes; the 10,000-VM daemon also times a listing's steps in its own process. GetVMStatus
// runs under the same concurrent load as the floor (throughput).

import { ListVMsRequestSchema, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { BenchContext, ServerInfo } from "../lib/context.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { GRPC_HEADERS, type H2loadResult, h2loadAvailable } from "../lib/h2load.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { assertAnswered, UNARY_LOAD } from "./floor.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "scale";
export const SIZES = [10, 1_000, 10_000] as const;

export const scaleSection: Section = {
  name: "scale",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    if (!h2loadAvailable()) return [skippedRow(SECTION, "ListVMs / GetVMStatus", "h2load not installed (apt-get install nghttp2-client)")];
    const [floor, ...daemons] = await Promise.all([
      ctx.server<ServerInfo>("floor server with ListVMs answers", "floor.ts", ["--list-sizes", SIZES.join(",")]),
      ...SIZES.map((n) => ctx.daemon(n)),
    ]);
    const list = writeGrpcBody(ctx.tmp, "list-all", ListVMsRequestSchema, {});
    const floorList = (n: number) => writeGrpcBody(ctx.tmp, `floor-list-${n}`, ListVMsRequestSchema, { pageSize: n });
    const floorTarget = (n: number) => ({
      url: `http://127.0.0.1:${floor.info.port}${NODE_SERVICE}/ListVMs`,
      bodyFile: floorList(n),
      headers: GRPC_HEADERS,
      clients: 1,
      streams: 1,
      serverPid: floor.info.pid,
    });
    const lists = new Map<number, H2loadResult[]>(SIZES.map((n) => [n, []]));
    const floorLists = new Map<number, H2loadResult[]>(SIZES.map((n) => [n, []]));
    const statuses = new Map<number, H2loadResult[]>(SIZES.map((n) => [n, []]));
    const steps: { backendMs: number; toMessagesMs: number; encodeMs: number }[] = [];
    await ctx.warm([
      ...daemons.map((d) => ({ url: `http://127.0.0.1:${d.info.port}${NODE_SERVICE}/ListVMs`, bodyFile: list, headers: GRPC_HEADERS, clients: 1, streams: 1 })),
      ...SIZES.map(floorTarget),
    ]);
    for (let round = 0; round < ctx.timing.rounds; round++) {
      for (const [i, n] of SIZES.entries()) {
        const d = daemons[i]!.info;
        const r = await ctx.load(
          { url: `http://127.0.0.1:${d.port}${NODE_SERVICE}/ListVMs`, bodyFile: list, headers: GRPC_HEADERS, clients: 1, streams: 1, serverPid: d.pid },
          3,
        );
        assertAnswered(`ListVMs with ${n} VMs`, r, n * 100);
        lists.get(n)!.push(r);
        const f = await ctx.load(floorTarget(n), 3);
        assertAnswered(`floor ListVMs with ${n} VMs`, f, n * 100);
        floorLists.get(n)!.push(f);
      }
      steps.push(await daemons.at(-1)!.command("listing 3"));
      for (const [i, n] of SIZES.entries()) {
        const d = daemons[i]!.info;
        // A different VM each round, so no single object stays hot in a cache.
        const body = writeGrpcBody(ctx.tmp, `status-${n}-${round}`, VMIdRequestSchema, { vmId: d.vmIds[round % d.vmIds.length]! });
        const r = await ctx.load({
          url: `http://127.0.0.1:${d.port}${NODE_SERVICE}/GetVMStatus`,
          bodyFile: body,
          headers: GRPC_HEADERS,
          ...UNARY_LOAD,
          serverPid: d.pid,
        });
        assertAnswered(`GetVMStatus with ${n} VMs`, r, 100);
        statuses.get(n)!.push(r);
      }
    }

    const p50 = (n: number) => median(lists.get(n)!.map((r) => r.p50Ms));
    const rows: BenchRow[] = [];
    for (const n of SIZES) {
      const runs = lists.get(n)!;
      rows.push({
        section: SECTION,
        name: `ListVMs, ${n.toLocaleString("en-US")} VMs, p50`,
        value: p50(n),
        unit: "ms",
        ...(n === 10_000 ? { budget: { op: "<=" as const, limit: 50 } } : {}),
        note: `p99 ${fmt(median(runs.map((r) => r.p99Ms)))} ms; ${fmt(median(runs.map((r) => r.dataBytesPerRequest)) / 1024)} KiB per answer; one call at a time`,
      });
    }
    const floorP50 = (n: number) => median(floorLists.get(n)!.map((r) => r.p50Ms));
    for (const n of SIZES) {
      const runs = floorLists.get(n)!;
      rows.push({
        section: SECTION,
        name: `floor ListVMs, ${n.toLocaleString("en-US")} VMs, p50`,
        value: floorP50(n),
        unit: "ms",
        note: `p99 ${fmt(median(runs.map((r) => r.p99Ms)))} ms; ${fmt(median(runs.map((r) => r.dataBytesPerRequest)) / 1024)} KiB per answer; bytes encoded once, then copied`,
      });
    }
    rows.push({
      section: SECTION,
      name: "floor ListVMs p50, 10,000 VMs / 1,000 VMs",
      value: floorP50(10_000) / floorP50(1_000),
      unit: "x",
      note: "how the bytes alone grow, on this machine",
    });
    for (const n of [1_000, 10_000]) {
      rows.push({
        section: SECTION,
        name: `ListVMs p50 / floor, ${n.toLocaleString("en-US")} VMs`,
        value: p50(n) / floorP50(n),
        unit: "x",
        note: "what listing and encoding add to sending the bytes",
      });
    }
    const step = (pick: (s: (typeof steps)[number]) => number) => median(steps.map(pick));
    rows.push({
      section: SECTION,
      name: "ListVMs steps, 10,000 VMs: statuses to protobuf messages",
      value: step((s) => s.toMessagesMs),
      unit: "ms",
      note: `in the daemon's process, median of ${steps.length} x 3; the mock's listVms before it: ${fmt(step((s) => s.backendMs))} ms`,
    });
    rows.push({
      section: SECTION,
      name: "ListVMs steps, 10,000 VMs: protobuf encoding",
      value: step((s) => s.encodeMs),
      unit: "ms",
      note: "toBinary of the whole answer; sending it is the floor's figure",
    });
    const listCpu = (n: number) => median(lists.get(n)!.map((r) => r.serverCpuUsPerCall));
    rows.push({
      section: SECTION,
      name: "ListVMs p50, 10,000 VMs / 1,000 VMs",
      value: p50(10_000) / p50(1_000),
      unit: "x",
      budget: { op: "<=", limit: 12 },
      note: `10x the VMs; 1,000 / 10 VMs (100x the VMs): ${fmt(p50(1_000) / p50(10))}x`,
    });
    // The daemon's own CPU per call, which the client and the machine's other load disturb less
    // than the wall clock.
    rows.push({
      section: SECTION,
      name: "ListVMs server CPU per call, 10,000 VMs / 1,000 VMs",
      value: listCpu(10_000) / listCpu(1_000),
      unit: "x",
      note: `${fmt(listCpu(1_000) / 1000)} ms and ${fmt(listCpu(10_000) / 1000)} ms of server CPU per call`,
    });
    for (const n of SIZES) {
      const runs = statuses.get(n)!;
      rows.push({
        section: SECTION,
        name: `GetVMStatus, ${n.toLocaleString("en-US")} VMs`,
        value: median(runs.map((r) => r.reqPerSec)),
        unit: "req/s",
        note: `p50 ${fmt(median(runs.map((r) => r.p50Ms)))} ms, p99 ${fmt(median(runs.map((r) => r.p99Ms)))} ms, ${fmt(median(runs.map((r) => r.serverCpuUsPerCall)))} µs server CPU per call`,
      });
    }
    const cpu = (n: number) => median(statuses.get(n)!.map((r) => r.serverCpuUsPerCall));
    rows.push({
      section: SECTION,
      name: "GetVMStatus server CPU per call, 10,000 VMs / 10 VMs",
      value: cpu(10_000) / cpu(10),
      unit: "x",
      note: "one map lookup: should stay near 1",
    });
    return rows;
  },
};
