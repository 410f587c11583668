// Follows StreamEvents from the start of a test file and keeps every event, so tests can check
// afterwards what the daemon announced. stop() cancels the stream and rethrows any other error.

import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { NodeDaemonService, NodeEvent } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";

export interface EventRecorder {
  events: NodeEvent[];
  stop(): Promise<void>;
}

/** Appends to `events` (a fresh array when not given) until stop(). */
export function recordEvents(client: Client<typeof NodeDaemonService>, events: NodeEvent[] = []): EventRecorder {
  const abort = new AbortController();
  const stream = client.streamEvents({}, { signal: abort.signal });
  const done = (async () => {
    try {
      for await (const e of stream) events.push(e);
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    }
  })();
  return {
    events,
    async stop() {
      abort.abort();
      await done;
    },
  };
}
