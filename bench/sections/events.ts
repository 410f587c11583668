// StreamEvents fan-out: 1, 10 and 100 gRPC subscribers (one HTTP/2 connection each) on the
// daemon while it publishes a burst of events into its event bus; events delivered per second
// in total, and whether every subscriber got every event. The subscribers only split frames
// (bench/lib/grpc-stream-client.ts) and decode the last event to check its sequence number.

import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { NodeEventSchema, StreamEventsRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { BenchContext, DaemonInfo } from "../lib/context.ts";
import type { Child } from "../lib/child.ts";
import { openStream, type StreamCounter } from "../lib/grpc-stream-client.ts";
import type { BenchRow } from "../lib/rows.ts";
import { fmt } from "../lib/stats.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "events";
/** Events published per batch; each batch is one macrotask of the daemon's loop. */
const BATCH = 100;

export async function openSubscribers(
  daemon: Child<DaemonInfo>,
  method: string,
  request: Uint8Array,
  n: number,
  ready: (streams: StreamCounter[]) => Promise<boolean>,
): Promise<StreamCounter[]> {
  const streams = Array.from({ length: n }, () => openStream(`http://127.0.0.1:${daemon.info.port}`, `${NODE_SERVICE}/${method}`, request));
  const deadline = performance.now() + 10_000;
  while (!(await ready(streams))) {
    if (performance.now() > deadline) {
      for (const s of streams) s.close();
      throw new Error(`${method}: ${n} subscribers not all open after 10 s`);
    }
    await Bun.sleep(20);
  }
  return streams;
}

async function fanOut(ctx: BenchContext, subscribers: number, events: number): Promise<BenchRow> {
  const daemon = await ctx.daemon(10);
  const request = toBinary(StreamEventsRequestSchema, create(StreamEventsRequestSchema, {}));
  const streams = await openSubscribers(daemon, "StreamEvents", request, subscribers, async () => {
    const { count } = await daemon.command<{ count: number }>("subscribers");
    return count >= subscribers;
  });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { lastId } = await daemon.command<{ firstId: number; lastId: number }>(`publish ${events} ${BATCH}`);
    const outcomes = await Promise.allSettled(streams.map((s) => s.waitFor(events, 60_000)));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const complete = streams.filter(
      (s, i) => outcomes[i]!.status === "fulfilled" && s.last && fromBinary(NodeEventSchema, s.last).sequence === BigInt(lastId),
    ).length;
    const delivered = streams.reduce((sum, s) => sum + s.count, 0);
    const clientCpu = (100 * (cpu.user + cpu.system)) / 1e6 / seconds;
    return {
      section: SECTION,
      name: `StreamEvents, ${subscribers} subscriber${subscribers > 1 ? "s" : ""}`,
      value: delivered / seconds,
      unit: "events/s",
      ...(subscribers === 100 ? { budget: { op: ">=" as const, limit: 50_000 } } : {}),
      note:
        `${complete} of ${subscribers} got all ${events} events (last sequence checked); ` +
        `${delivered.toLocaleString("en-US")} delivered in ${fmt(seconds)} s; subscribers' process used ${fmt(clientCpu)}% of a core`,
      ...(complete < subscribers ? { failed: true } : {}),
    };
  } finally {
    for (const s of streams) s.close();
  }
}

export const eventsSection: Section = {
  name: "events",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const plan: [number, number][] =
      ctx.mode === "smoke"
        ? [
            [1, 50],
            [3, 50],
          ]
        : ctx.mode === "quick"
          ? [
              [1, 5_000],
              [10, 5_000],
              [100, 1_000],
            ]
          : [
              [1, 10_000],
              [10, 10_000],
              [100, 3_000],
            ];
    const rows: BenchRow[] = [];
    for (const [subscribers, events] of plan) rows.push(await fanOut(ctx, subscribers, events));
    return rows;
  },
};
