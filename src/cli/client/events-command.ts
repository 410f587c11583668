// `events`: one line per node event. --follow keeps reading (and reconnects after the daemon
// went away); --since ID prints what the daemon still buffers after that id.

import { defineCommand } from "citty";
import { NodeEventSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { DEFAULT_BACKOFF, eventLine, followEvents } from "./events-follow.ts";
import { runClient } from "./failures.ts";
import { jsonText } from "./format.ts";

/** Without --follow, the replay of buffered events is over once none came for this long. */
const REPLAY_IDLE_MS = 500;

export function sinceId(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  if (!/^\d{1,15}$/.test(text.trim())) throw new UsageError(`--since ${JSON.stringify(text)}: give an event id (a whole number)`);
  return BigInt(text.trim());
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

export const eventsCommand = defineCommand({
  meta: { name: "events", description: "Node events, one line each: --follow to watch (resumes after a reconnect), --since ID for the buffered ones" },
  args: withExamples(
    {
      follow: { type: "boolean", alias: "f", description: "Keep printing events as they happen until Ctrl-C; reconnects when the daemon comes back" },
      since: { type: "string", description: "Start after this event id (the ids the lines begin with)", valueHint: "id" },
      ...clientArgs,
    },
    ["events --follow", "events --since 42", "events --follow --since 42 --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out, err }) => {
      const since = sinceId(args.since);
      if (!args.follow && args.since === undefined) {
        throw new UsageError("events needs --follow (watch new events) or --since ID (print the buffered events after ID)");
      }
      const stop = new AbortController();
      const quit = () => stop.abort();
      process.on("SIGINT", quit);
      process.on("SIGTERM", quit);
      // The daemon answers before the stream opens, so "cannot reach" is reported at once.
      await conn.client.healthCheck({});
      try {
        await followEvents({
          open: (afterEventId, signal) => conn.client.streamEvents({ afterEventId }, { signal }),
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
