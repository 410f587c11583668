// Clients that cancel streams or vanish leak nothing: after hundreds of open/cancel cycles of
// StreamEvents and StreamMetrics (gRPC over HTTP/2, Connect over HTTP/1.1, and raw connections
// dropped mid-stream) every subscription is released, no HTTP/2 session is left open, the
// metrics hub stops sampling, and heap and RSS are where they were, within a tolerance.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { NodeDaemonService, StreamEventsRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { toBinary, create } from "@bufbuild/protobuf";
import { startHarness, type Harness } from "./harness.ts";
import { openStalledGrpcStream } from "./raw-h2.ts";

const CYCLES = Number(process.env.LQ_LEAK_CYCLES ?? 500);
const BATCH = 25;
let h: Harness;
/** A second HTTP/2 connection, so sessions of more than one client are in play. */
let other: ReturnType<typeof createClient<typeof NodeDaemonService>>;

beforeAll(async () => {
  h = await startHarness();
  other = createClient(NodeDaemonService, createGrpcTransport({ baseUrl: h.baseUrl }));
  // Two events, so "after the first" always has one to replay at once.
  h.daemon.events.publish({ type: "node", message: "something to replay" });
  h.daemon.events.publish({ type: "node", message: "and another" });
});
afterAll(() => h.stop());

async function settle(cond: () => boolean, ms = 3000) {
  const deadline = performance.now() + ms;
  while (!cond() && performance.now() < deadline) await Bun.sleep(10);
}

/** Opens a stream, reads its first message, cancels it. */
async function cycle(open: (signal: AbortSignal) => AsyncIterable<unknown>) {
  const ac = new AbortController();
  try {
    for await (const _ of open(ac.signal)) break;
  } finally {
    ac.abort();
  }
}

const lastEvent = () => BigInt(h.daemon.events.lastId() - 1);

async function rounds(n: number) {
  const grpc = h.grpc;
  for (let done = 0; done < n; done += BATCH) {
    await Promise.all(
      Array.from({ length: BATCH }, (_, i) => {
        const c = i % 2 ? grpc : other;
        return Promise.all([
          cycle((signal) => c.streamEvents({ afterSequence: lastEvent() }, { signal })),
          cycle((signal) => c.streamMetrics({ intervalMs: 250, nodeOnly: i % 3 === 0 }, { signal })),
        ]);
      }),
    );
    // Some over HTTP/1.1 (Connect streaming): a cancel there closes the request.
    await cycle((signal) => h.connect.streamEvents({ afterSequence: lastEvent() }, { signal }));
    await cycle((signal) => h.connect.streamMetrics({ intervalMs: 250 }, { signal }));
  }
}

async function disconnects(n: number) {
  const request = toBinary(StreamEventsRequestSchema, create(StreamEventsRequestSchema, { afterSequence: lastEvent() }));
  for (let i = 0; i < n; i += 10) {
    const streams = await Promise.all(
      Array.from({ length: 10 }, () => openStalledGrpcStream(h.daemon.api.port, "/limiquantix.node.v1.NodeDaemonService/StreamEvents", request)),
    );
    await settle(() => h.daemon.stats().eventSubscribers >= 10);
    for (const s of streams) s.close(); // the TCP connection drops, no RST_STREAM, no GOAWAY
  }
}

/** Connections dropped while the server is blocked writing to them (HTTP/2 window full). */
async function blockedDisconnects(n: number) {
  // ~75 KB of events to replay: more than the 64 KiB window a stalled client grants.
  for (let j = 0; j < 150; j++) h.daemon.events.publish({ type: "node", message: `filler ${j} ${"f".repeat(500)}` });
  const request = toBinary(StreamEventsRequestSchema, create(StreamEventsRequestSchema, { afterSequence: BigInt(h.daemon.events.lastId() - 150) }));
  for (let i = 0; i < n; i++) {
    const s = await openStalledGrpcStream(h.daemon.api.port, "/limiquantix.node.v1.NodeDaemonService/StreamEvents", request);
    await settle(() => s.dataBytes() >= 60_000);
    expect(s.dataBytes()).toBeGreaterThanOrEqual(60_000);
    s.close();
  }
}

function memory() {
  Bun.gc(true);
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

describe("cancel and disconnect cycles", () => {
  test(`${CYCLES} open/cancel cycles of each stream, and 120 dropped connections (20 blocked on flow control), leak nothing`, async () => {
    await rounds(50); // warm-up: JIT, pools, lazily built tables
    await disconnects(20);
    await blockedDisconnects(5);
    await settle(() => h.daemon.stats().eventSubscribers === 0 && h.daemon.stats().metricsSubscribers === 0);
    const baseline = h.daemon.stats();
    const before = memory();
    const started = performance.now();

    await rounds(CYCLES);
    await disconnects(100);
    await blockedDisconnects(20);

    await settle(() => {
      const s = h.daemon.stats();
      return (
        s.eventSubscribers === 0 &&
        s.metricsSubscribers === 0 &&
        s.activeCalls === 0 &&
        s.sessions <= baseline.sessions &&
        s.connections <= baseline.connections
      );
    });
    const after = h.daemon.stats();
    console.log("open before:", JSON.stringify(baseline), "after:", JSON.stringify(after));
    expect(after.activeCalls).toBe(0); // every handler finished, none parked on a dead stream
    expect(after.eventSubscribers).toBe(0);
    expect(after.metricsSubscribers).toBe(0);
    expect(after.sessions).toBeLessThanOrEqual(baseline.sessions);
    expect(after.connections).toBeLessThanOrEqual(baseline.connections);
    // No subscriber left means no sampling timer left: the hub reads the host no more. An
    // absence has no event to wait for: watch for longer than two of the shortest intervals.
    const reads = after.metricsReads;
    await Bun.sleep(600);
    expect(h.daemon.stats().metricsReads).toBe(reads);

    const end = memory();
    const heapMb = (end.heap - before.heap) / 1e6;
    const rssMb = (end.rss - before.rss) / 1e6;
    console.log(
      `${CYCLES}x2 gRPC + ${(2 * CYCLES) / BATCH} HTTP/1.1 stream cycles + 120 dropped connections in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s: heap ${heapMb >= 0 ? "+" : ""}${heapMb.toFixed(1)} MB, rss ${rssMb >= 0 ? "+" : ""}${rssMb.toFixed(1)} MB`,
    );
    expect(heapMb).toBeLessThan(8);
    expect(rssMb).toBeLessThan(64);
    expect((await h.grpc.healthCheck({})).healthy).toBe(true);
  }, 60_000);
});
