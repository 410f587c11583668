// The guest agent on a real guest (bench/servers/agent-guest.ts boots scripts/build-test-guest.sh's
// ISO through the daemon): what PingAgent through the daemon adds over a bare QTX1 ping on the
// same guest's socket, measured side by side (QEMU serves one client at a time, so each round the
// daemon lets go of the socket, this process pings it bare, then the daemon takes it back and
// h2load calls PingAgent one at a time; the same bare pings from the daemon's own process split
// off what the daemon adds); and 100 concurrent ExecuteInGuest calls to the guest, each checked
// for its own answer and for completing in call order. Needs LIMIQUANTIX_REAL_LIBVIRT=1
// (libvirtd from setup-libvirt.sh).

import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { HealthCheckRequestSchema, NodeDaemonService, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { BenchContext } from "../lib/context.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { barePings } from "../lib/qtx-ping.ts";
import { GRPC_HEADERS, h2loadAvailable, type H2loadResult } from "../lib/h2load.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt, median, quantile } from "../lib/stats.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "agent";
const CONCURRENT = 100;

interface GuestInfo {
  port: number;
  pid: number;
  vmId: string;
  socket: string;
}

export const agentSection: Section = {
  name: SECTION,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    // As the real tier's guest test: with libvirt, unless LIMIQUANTIX_REAL_GUEST=0.
    if (process.env.LIMIQUANTIX_REAL_LIBVIRT !== "1" || process.env.LIMIQUANTIX_REAL_GUEST === "0")
      return [
        skippedRow(
          SECTION,
          "PingAgent and ExecuteInGuest on a real guest",
          "needs LIMIQUANTIX_REAL_LIBVIRT=1 and libvirtd (scripts/setup-libvirt.sh); LIMIQUANTIX_REAL_GUEST=0 leaves it out",
        ),
      ];
    if (!h2loadAvailable())
      return [skippedRow(SECTION, "PingAgent and ExecuteInGuest on a real guest", "h2load not installed (apt-get install nghttp2-client)")];
    const guest = await ctx.server<GuestInfo>("daemon with a real guest", "agent-guest.ts", [], 600_000);
    const { vmId, socket } = guest.info;
    let port = guest.info.port;
    const body = writeGrpcBody(ctx.tmp, "agent-ping", VMIdRequestSchema, { vmId });
    const healthBody = writeGrpcBody(ctx.tmp, "agent-health", HealthCheckRequestSchema, {});
    // Many short rounds, each a bare set and a gRPC set back to back (which one first
    // alternates): the guest's round trip swings with the machine's load, so the daemon's share
    // is taken per round (gRPC - bare of the same round), then the median over rounds.
    const rounds = ctx.mode === "smoke" ? 1 : ctx.timing.rounds * 3;
    const pings = ctx.mode === "smoke" ? 10 : 100;
    const bare: number[] = [];
    const bareInDaemon: number[] = [];
    const viaManager: number[] = [];
    const grpc: H2loadResult[] = [];
    const health: H2loadResult[] = [];
    const target = () => ({
      url: `http://127.0.0.1:${port}${NODE_SERVICE}/PingAgent`,
      bodyFile: body,
      headers: GRPC_HEADERS,
      clients: 1,
      streams: 1,
      serverPid: guest.pid,
    });
    // The same daemon's HealthCheck: the gRPC round trip with nothing behind it.
    const healthTarget = () => ({ ...target(), url: `http://127.0.0.1:${port}${NODE_SERVICE}/HealthCheck`, bodyFile: healthBody });
    const bareSet = async () => {
      await guest.command("release");
      bare.push(median(await barePings(socket, pings)));
      bareInDaemon.push(median((await guest.command<{ ms: number[] }>(`bare ${pings}`)).ms));
      ({ port } = await guest.command<{ port: number }>("attach"));
    };
    const grpcSet = async () => {
      grpc.push(await ctx.load(target(), pings));
      health.push(await ctx.load(healthTarget(), pings));
      viaManager.push(median((await guest.command<{ ms: number[] }>(`manager ${pings}`)).ms));
    };
    await ctx.warm([target(), healthTarget()]);
    for (let round = 0; round < rounds; round++) {
      if (round % 2 === 0) {
        await bareSet();
        await grpcSet();
      } else {
        await grpcSet();
        await bareSet();
      }
    }
    const bareP50 = median(bare);
    const bareInDaemonP50 = median(bareInDaemon);
    const managerP50 = median(viaManager);
    const healthP50 = median(health.map((r) => r.p50Ms));
    const grpcP50 = median(grpc.map((r) => r.p50Ms));
    const adds = median(grpc.map((r, i) => r.p50Ms - (bare[i] ?? Number.NaN)));
    const addsOverDaemonProcess = median(grpc.map((r, i) => r.p50Ms - (bareInDaemon[i] ?? Number.NaN)));

    // 100 ExecuteInGuest calls at once to the one guest, each with its own answer to check, and
    // the order they complete in: call i must complete i-th (agent/call-order.ts).
    const client = createClient(NodeDaemonService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }));
    const started = performance.now();
    const order: number[] = [];
    const times: number[] = [];
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const t = performance.now();
        const r = await client.executeInGuest({ vmId, command: `echo ${i}`, timeoutSeconds: 60 });
        times.push(performance.now() - t);
        order.push(i);
        return r.exitCode === 0 && r.stdout === `${i}\n` ? 1 : 0;
      }),
    );
    const wallMs = performance.now() - started;
    const right = answers.reduce<number>((a, b) => a + b, 0);
    const outOfOrder = order.filter((v, k) => v !== k).length;
    return [
      {
        section: SECTION,
        name: "bare QTX1 ping on the guest's socket, p50",
        value: bareP50,
        unit: "ms",
        note: `${rounds} rounds of ${pings} sequential pings, from this process`,
      },
      {
        section: SECTION,
        name: "bare QTX1 ping from the daemon's process, p50",
        value: bareInDaemonP50,
        unit: "ms",
        note: "the same pings from the process the daemon runs in (daemon stopped): PingAgent minus this is the daemon's own part",
      },
      {
        section: SECTION,
        name: "ping through the daemon's agent manager, in its process, p50",
        value: managerP50,
        unit: "ms",
        note: "agents.ping() called in the daemon's process, no gRPC: the daemon's agent path alone",
      },
      {
        section: SECTION,
        name: "HealthCheck over gRPC on the same daemon, p50",
        value: healthP50,
        unit: "ms",
        note: `h2load, one call at a time, interleaved with PingAgent: the gRPC round trip alone; ${fmt(median(health.map((r) => r.serverCpuUsPerCall)) / 1000)} ms daemon CPU per call`,
      },
      {
        section: SECTION,
        name: "PingAgent over gRPC, p50",
        value: grpcP50,
        unit: "ms",
        note: `h2load, one call at a time; p99 ${fmt(median(grpc.map((r) => r.p99Ms)))} ms; ${fmt(median(grpc.map((r) => r.serverCpuUsPerCall)) / 1000)} ms daemon CPU per call`,
      },
      {
        section: SECTION,
        name: "PingAgent adds over the bare ping, p50",
        value: adds,
        unit: "ms",
        budget: { op: "<=", limit: 1 },
        note: `median over rounds of (gRPC p50 - bare p50) of the same round; over the bare ping from the daemon's process: ${fmt(addsOverDaemonProcess)} ms`,
      },
      {
        section: SECTION,
        name: `${CONCURRENT} concurrent ExecuteInGuest, answered right`,
        value: right,
        unit: "calls",
        budget: { op: ">=", limit: CONCURRENT },
        note: `each "echo i" got its own i; all in ${fmt(wallMs)} ms (${fmt(wallMs / CONCURRENT)} ms per call); call p50 ${fmt(median(times))} ms, p99 ${fmt(quantile(times, 0.99))} ms`,
      },
      {
        section: SECTION,
        name: `${CONCURRENT} concurrent ExecuteInGuest, completed out of call order`,
        value: outOfOrder,
        unit: "calls",
        budget: { op: "<=", limit: 0 },
        note: "call i is the i-th to complete; counted: positions where the completion order differs",
      },
    ];
  },
};
