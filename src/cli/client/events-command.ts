// `events`: one line per node event, led by its sequence number. --follow keeps reading (and
// reconnects after the daemon went away); --since N prints what the daemon still buffers after
// sequence N; --since-start (or --since 0) everything it buffers, from the oldest.

import { defineCommand } from "citty";
import { sleep } from "../../common/sleep.ts";
import { NodeEventSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { DEFAULT_BACKOFF, eventLine, followEvents, type StreamStart } from "./events-follow.ts";
import { runClient } from "./failures.ts";
import { jsonText } from "./format.ts";

/** Without --follow, the replay of buffered events is over once none came for this long. */
const REPLAY_IDLE_MS = 500;

/**
 * Where the first stream starts: --since-start and --since 0 at the oldest buffered event,
 * --since N after sequence N, and otherwise with new events only.
 */
export function streamStart(since: string | undefined, sinceStart: boolean): StreamStart {
  if (since === undefined) return { afterSequence: 0n, fromOldest: sinceStart };
  if (sinceStart) throw new UsageError("give --since N or --since-start, not both");
  if (!/^\d{1,15}$/.test(since.trim())) {
    throw new UsageError(`--since ${JSON.stringify(since)}: give an event's sequence number (the number a line begins with), or 0 for all`);
  }
  const afterSequence = BigInt(since.trim());
  return { afterSequence, fromOldest: afterSequence === 0n };
}

export const eventsCommand = defineCommand({
  meta: {
    name: "events",
    description: "Node events, one line each: --follow to watch (resumes after a reconnect), --since N or --since-start for the buffered ones",
  },
  args: withExamples(
    {
      follow: { type: "boolean", alias: "f", description: "Keep printing events as they happen until Ctrl-C; reconnects when the daemon comes back" },
      since: {
        type: "string",
        description: "Start after this sequence number (the number a line begins with); 0: from the oldest buffered event",
        valueHint: "n",
      },
      "since-start": { type: "boolean", description: "Start with the oldest event the daemon still buffers" },
      ...clientArgs,
    },
    ["events --follow", "events --since 42", "events --since-start", "events --follow --since-start --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out, err }) => {
      const since = streamStart(args.since, args["since-start"] === true);
      if (!args.follow && args.since === undefined && !args["since-start"]) {
        throw new UsageError("events needs --follow (watch new events), --since N (print the buffered events after N) or --since-start (all buffered events)");
      }
      const stop = new AbortController();
      const quit = () => stop.abort();
      process.on("SIGINT", quit);
      process.on("SIGTERM", quit);
      // The daemon answers before the stream opens, so "cannot reach" is reported at once.
      await conn.client.healthCheck({});
      try {
        await followEvents({
          open: (from, signal) => conn.client.streamEvents(from, { signal }),
          ping: async (signal) => void (await conn.client.healthCheck({}, { signal, timeoutMs: 2000 })),
          print: (e) => out(args.json ? jsonText(NodeEventSchema, e) : eventLine(e)),
          notice: (text) => err(text),
          sleep,
          signal: stop.signal,
          follow: args.follow === true,
          since,
          idleMs: REPLAY_IDLE_MS,
          backoff: DEFAULT_BACKOFF,
        });
      } finally {
        process.off("SIGINT", quit);
        process.off("SIGTERM", quit);
      }
    }),
});
