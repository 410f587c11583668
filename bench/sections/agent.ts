// The guest agent on a real guest (bench/servers/agent-guest.ts boots scripts/build-test-guest.sh's
// ISO through the daemon): what PingAgent through the daemon adds over a bare QTX1 ping on the
// same guest's socket, measured side by side (QEMU serves one client at a time, so each round the
// daemon lets go of the socket, this process pings it bare, then the daemon takes it back and
// h2load calls PingAgent one at a time); and 100 concurrent ExecuteInGuest calls to the guest, each
// checked for its own answer. Needs LIMIQUANTIX_REAL_LIBVIRT=1 (libvirtd from setup-libvirt.sh).

import { connect } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createFrameDecoder, encodeFrame } from "../../src/agent/framing.ts";
import { type AgentMessage, AgentMessageSchema } from "../../src/gen/limiquantix/agent/v1/agent_pb.ts";
import { NodeDaemonService, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { BenchContext } from "../lib/context.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
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

/** `count` sequential QTX1 pings on the socket, as the daemon sends them; round trips in ms. */
async function barePings(path: string, count: number): Promise<number[]> {
  const socket = connect({ path });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const decoder = createFrameDecoder({ parse: (p) => fromBinary(AgentMessageSchema, p) });
  const waiting = new Map<string, () => void>();
  socket.on("data", (chunk: Buffer) => {
    for (const m of decoder.push(chunk) as AgentMessage[]) waiting.get(m.messageId)?.();
  });
  const ping = (seq: number) =>
    new Promise<void>((resolve, reject) => {
      const id = crypto.randomUUID();
      const timer = setTimeout(() => reject(new Error("a bare ping got no pong within 10 s")), 10_000);
      waiting.set(id, () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      });
      socket.write(
        encodeFrame(
          toBinary(
            AgentMessageSchema,
            create(AgentMessageSchema, { messageId: id, timestamp: timestampNow(), payload: { case: "ping", value: { sequence: BigInt(seq + 2) } } }),
          ),
        ),
      );
    });
  try {
    // The first round trip after a connect is slow (20-150 ms): not measured.
    for (let i = 0; i < 5; i++) await ping(i);
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await ping(i);
      out.push(performance.now() - t);
    }
    return out;
  } finally {
    socket.destroy();
  }
}

export const agentSection: Section = {
  name: SECTION,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    // The real guest tier is not green yet (issue 13): it runs only when asked for, as its test does.
    if (process.env.LIMIQUANTIX_REAL_LIBVIRT !== "1" || process.env.LIMIQUANTIX_REAL_GUEST !== "1")
      return [
        skippedRow(
          SECTION,
          "PingAgent and ExecuteInGuest on a real guest",
          "needs LIMIQUANTIX_REAL_LIBVIRT=1 LIMIQUANTIX_REAL_GUEST=1 and libvirtd (scripts/setup-libvirt.sh)",
        ),
      ];
    if (!h2loadAvailable())
      return [skippedRow(SECTION, "PingAgent and ExecuteInGuest on a real guest", "h2load not installed (apt-get install nghttp2-client)")];
    const guest = await ctx.server<GuestInfo>("daemon with a real guest", "agent-guest.ts", [], 600_000);
    const { vmId, socket } = guest.info;
    let port = guest.info.port;
    const body = writeGrpcBody(ctx.tmp, "agent-ping", VMIdRequestSchema, { vmId });
    const pings = ctx.mode === "smoke" ? 10 : 300;
    const bare: number[][] = [];
    const grpc: H2loadResult[] = [];
    for (let round = 0; round < ctx.timing.rounds; round++) {
      await guest.command("release");
      bare.push(await barePings(socket, pings));
      ({ port } = await guest.command<{ port: number }>("attach"));
      const target = {
        url: `http://127.0.0.1:${port}${NODE_SERVICE}/PingAgent`,
        bodyFile: body,
        headers: GRPC_HEADERS,
        clients: 1,
        streams: 1,
        serverPid: guest.pid,
      };
      if (round === 0) await ctx.warm([target]);
      grpc.push(await ctx.load(target, pings));
    }
    const bareP50 = median(bare.map((b) => median(b)));
    const grpcP50 = median(grpc.map((r) => r.p50Ms));

    // 100 ExecuteInGuest calls at once to the one guest, each with its own answer to check.
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
    const inversions = order.filter((v, k) => k > 0 && v < (order[k - 1] ?? 0)).length;
    return [
      {
        section: SECTION,
        name: "bare QTX1 ping on the guest's socket, p50",
        value: bareP50,
        unit: "ms",
        note: `${bare.length} rounds of ${pings} sequential pings, from this process`,
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
        value: grpcP50 - bareP50,
        unit: "ms",
        budget: { op: "<=", limit: 1 },
        note: "gRPC p50 - bare p50, interleaved rounds",
      },
      {
        section: SECTION,
        name: `${CONCURRENT} concurrent ExecuteInGuest, answered right`,
        value: right,
        unit: "calls",
        budget: { op: ">=", limit: CONCURRENT },
        note: `each "echo i" got its own i; all in ${fmt(wallMs)} ms (${fmt(wallMs / CONCURRENT)} ms per call); call p50 ${fmt(median(times))} ms, p99 ${fmt(quantile(times, 0.99))} ms; ${inversions} completions out of request order`,
      },
    ];
  },
};
