// The event reader behind `events`: prints each event once, and when the daemon goes away
// (restart, network) waits for it with bounded backoff and resumes with after_event_id = the
// last id printed, so nothing buffered in between is lost. No I/O of its own: tests drive it.

import { Code, ConnectError } from "@connectrpc/connect";
import { EventType, EventTypeSchema, type NodeEvent, VMStateSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { enumLabel, when } from "./format.ts";

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Failed reconnection attempts in a row before giving up. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 5000, maxAttempts: 12 };

export interface FollowDeps {
  /** Opens StreamEvents after this id; the signal ends it. */
  open(afterId: bigint, signal: AbortSignal): AsyncIterable<NodeEvent>;
  /** A cheap call that fails while the daemon is unreachable (HealthCheck). */
  ping(signal: AbortSignal): Promise<void>;
  print(event: NodeEvent): void;
  notice(text: string): void;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  signal: AbortSignal;
  follow: boolean;
  since: bigint;
  /** Without --follow: the buffered events have all arrived once none came for this long. */
  idleMs: number;
  backoff: Backoff;
}

const RETRYABLE = new Set([Code.Unavailable, Code.Internal, Code.Unknown, Code.Aborted, Code.Canceled, Code.DeadlineExceeded, Code.ResourceExhausted]);

export const isRetryable = (err: unknown) => err instanceof ConnectError && RETRYABLE.has(err.code);

/** One line per event: `#12 2026-11-22T02:03:04Z vm_state_changed web-1 (stopped -> running) vm web-1 started`. */
export function eventLine(e: NodeEvent): string {
  const who = e.vmName || e.vmId || "-";
  const change = e.type === EventType.VM_STATE_CHANGED && e.state
    ? ` (${e.previousState ? `${enumLabel(VMStateSchema, e.previousState)} -> ` : ""}${enumLabel(VMStateSchema, e.state)})`
    : "";
  return `#${e.id} ${when(e.timestamp)} ${enumLabel(EventTypeSchema, e.type)} ${who}${change} ${e.message}`.trimEnd();
}

export const backoffMs = (attempt: number, b: Backoff) => Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt - 1));

/** Reads one stream to its end; returns normally when it ended or went idle (without --follow). */
async function readStream(deps: FollowDeps, afterId: bigint, onEvent: (e: NodeEvent) => void): Promise<void> {
  const call = new AbortController();
  const stop = () => call.abort();
  deps.signal.addEventListener("abort", stop, { once: true });
  let idle: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (deps.follow) return;
    clearTimeout(idle);
    idle = setTimeout(stop, deps.idleMs);
  };
  try {
    arm();
    for await (const e of deps.open(afterId, call.signal)) {
      onEvent(e);
      arm();
    }
  } catch (err) {
    if (!call.signal.aborted) throw err;
  } finally {
    clearTimeout(idle);
    deps.signal.removeEventListener("abort", stop);
  }
}

/** Waits until the daemon answers again; throws once maxAttempts pings in a row failed. */
async function reconnect(deps: FollowDeps, reason: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= deps.backoff.maxAttempts; attempt++) {
    const wait = backoffMs(attempt, deps.backoff);
    deps.notice(`${reason}; reconnecting in ${wait} ms (attempt ${attempt} of ${deps.backoff.maxAttempts})`);
    await deps.sleep(wait, deps.signal);
    if (deps.signal.aborted) return;
    try {
      await deps.ping(deps.signal);
      return;
    } catch (err) {
      if (!isRetryable(err)) throw err;
      lastError = err;
      reason = "the daemon is still unreachable";
    }
  }
  throw lastError;
}

export async function followEvents(deps: FollowDeps): Promise<void> {
  let after = deps.since;
  while (!deps.signal.aborted) {
    let reason: string;
    try {
      await readStream(deps, after, (e) => {
        deps.print(e);
        after = e.id;
      });
      if (!deps.follow || deps.signal.aborted) return;
      reason = "the daemon ended the event stream";
    } catch (err) {
      if (deps.signal.aborted) return;
      if (err instanceof ConnectError && err.code === Code.OutOfRange) {
        // The events since `after` fell out of the daemon's buffer: say so and carry on with new ones.
        deps.notice(`events after #${after} are no longer buffered on the daemon (${err.rawMessage}); continuing with new events`);
        after = 0n;
        continue;
      }
      if (!deps.follow || !isRetryable(err)) throw err;
      reason = `lost the event stream (${err instanceof ConnectError ? err.rawMessage : String(err)})`;
    }
    await reconnect(deps, reason);
    if (!deps.signal.aborted) deps.notice(`reconnected; resuming after event #${after}`);
  }
}
