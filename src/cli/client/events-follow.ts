// The event reader behind `events`: prints each event once, and when the daemon goes away
// (restart, network) waits for it with bounded backoff and resumes with after_sequence = the
// last sequence printed, so nothing buffered in between is lost. No I/O of its own: tests drive it.

import { Code, ConnectError } from "@connectrpc/connect";
import { backoffCeiling, type BackoffOptions } from "../../common/backoff.ts";
import { EventTypeSchema, type NodeEvent, PowerState, PowerStateSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { enumLabel, when } from "./format.ts";
import { stateOf } from "./vm-state.ts";

export interface Backoff extends BackoffOptions {
  /** Failed reconnection attempts in a row before giving up. */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 5000, maxAttempts: 12 };

/** Where a stream starts: after a sequence number, or (fromOldest) at the oldest buffered event. */
export interface StreamStart {
  afterSequence: bigint;
  fromOldest: boolean;
}

export interface FollowDeps {
  /** Opens StreamEvents at `from`; the signal ends it. */
  open(from: StreamStart, signal: AbortSignal): AsyncIterable<NodeEvent>;
  /** A cheap call that fails while the daemon is unreachable (HealthCheck). */
  ping(signal: AbortSignal): Promise<void>;
  print(event: NodeEvent): void;
  notice(text: string): void;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  signal: AbortSignal;
  follow: boolean;
  /** The first stream's start; later ones resume after the last event printed. */
  since: StreamStart;
  /** Without --follow: the buffered events have all arrived once none came for this long. */
  idleMs: number;
  backoff: Backoff;
}

const RETRYABLE = new Set([Code.Unavailable, Code.Internal, Code.Unknown, Code.Aborted, Code.Canceled, Code.DeadlineExceeded, Code.ResourceExhausted]);

export const isRetryable = (err: unknown) => err instanceof ConnectError && RETRYABLE.has(err.code);

/**
 * One line per event, led by its sequence number (what --since takes):
 * `#12 2026-11-22T02:03:04Z vm_started web-1 (stopped -> running) vm web-1 started`.
 */
export function eventLine(e: NodeEvent): string {
  const who = e.vmName || e.vmId || "-";
  const now = e.state !== PowerState.UNKNOWN || e.transition !== 0 ? stateOf(e) : "";
  const change = now ? ` (${e.previousState !== PowerState.UNKNOWN ? `${enumLabel(PowerStateSchema, e.previousState)} -> ` : ""}${now})` : "";
  return `#${e.sequence} ${when(e.timestamp)} ${enumLabel(EventTypeSchema, e.type)} ${who}${change} ${e.message}`.trimEnd();
}

/** Reads one stream to its end; returns normally when it ended or went idle (without --follow). */
async function readStream(deps: FollowDeps, from: StreamStart, onEvent: (e: NodeEvent) => void): Promise<void> {
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
    for await (const e of deps.open(from, call.signal)) {
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
    // No jitter: one operator's client, not a fleet.
    const wait = backoffCeiling(attempt - 1, deps.backoff);
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
  let from = deps.since;
  const where = () => (from.fromOldest ? "from the oldest buffered event" : `after event #${from.afterSequence}`);
  while (!deps.signal.aborted) {
    let reason: string;
    try {
      await readStream(deps, from, (e) => {
        deps.print(e);
        from = { afterSequence: e.sequence, fromOldest: false };
      });
      if (!deps.follow || deps.signal.aborted) return;
      reason = "the daemon ended the event stream";
    } catch (err) {
      if (deps.signal.aborted) return;
      if (err instanceof ConnectError && err.code === Code.OutOfRange) {
        // Some events after `from` fell out of the daemon's buffer: say so, and go on with the
        // oldest it still has, which loses the fewest.
        deps.notice(`events ${where()} are no longer all buffered on the daemon (${err.rawMessage}); continuing from the oldest it still has`);
        from = { afterSequence: 0n, fromOldest: true };
        continue;
      }
      if (!deps.follow || !isRetryable(err)) throw err;
      reason = `lost the event stream (${err instanceof ConnectError ? err.rawMessage : String(err)})`;
    }
    await reconnect(deps, reason);
    if (!deps.signal.aborted) deps.notice(`reconnected; resuming ${where()}`);
  }
}
