// The API thread's side of the event Worker: starts it, waits for its first connection, and
// hands raw domain events and connection changes to the backend. A Worker that dies after that
// (an uncaught error, an exit) is a disconnect like libvirtd going away: onDisconnected says
// why, a new Worker is started (at once, then with the shared backoff while it cannot start),
// and its connection is reported as a reconnection (onConnected with attempt > 1).

import { writeSync } from "node:fs";
import { backoffDelay } from "../../common/backoff.ts";
import { DOORBELL_RING } from "./ffi/doorbell.ts";
import { HypervisorError } from "../errors.ts";
import { crashReason, fromWireError, type FromEventWorker, type RawDomainEvent, type ToEventWorker } from "./protocol.ts";
import { defaultWorkerPath, EVENT_WORKER_FILE } from "./worker-paths.ts";

export interface EventSourceOptions {
  uri: string;
  workerPath?: string;
  /** How often the loop returns to JS to check for stop and reconnection. */
  tickMs?: number;
  onEvent(event: RawDomainEvent): void;
  /** attempt: 1 for the first connection, then counts every reconnection, whichever Worker made it. */
  onConnected(attempt: number): void;
  onDisconnected(reason: string): void;
}

export interface EventSource {
  readonly connected: boolean;
  /** Test hook: the Worker throws as a bug would make it (the production crash path runs). */
  crashWorkerForTest(): void;
  close(): Promise<void>;
}

/** Restarts of a dead event Worker: the first at once, then 250 ms doubling up to 5 s. */
const RESTART = { initialMs: 250, maxMs: 5000 };

/**
 * libvirt's default event loop is process-wide: with two loop threads, either could run the
 * other's callbacks, which belong to another Worker's JS heap. So one event Worker at a time.
 */
let active = false;

export function createEventSource(opts: EventSourceOptions): Promise<EventSource> {
  if (active) {
    return Promise.reject(new HypervisorError("invalid_state", "a libvirt event loop already runs in this process; close the other libvirt backend first"));
  }
  active = true;
  const path = opts.workerPath ?? defaultWorkerPath(EVENT_WORKER_FILE);
  let worker: Worker;
  /** The current Worker's doorbell (-1 until it says, or where it has none: it then ticks). */
  let doorbell = -1;
  /** Posts to the Worker and rings, so its loop, asleep in poll(), wakes to read the message. */
  const tell = (m: ToEventWorker) => {
    worker.postMessage(m);
    if (doorbell < 0) return;
    try {
      writeSync(doorbell, DOORBELL_RING);
    } catch {
      // The Worker is gone with its fd; nothing is waiting to read the message.
    }
  };
  let connected = false;
  let connections = 0;
  let failedRestarts = 0;
  let closing = false;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;
  let stopped: (() => void) | null = null;
  let firstResult: { resolve(s: EventSource): void; reject(e: unknown): void } | null;

  const source: EventSource = {
    get connected() {
      return connected;
    },
    crashWorkerForTest: () => tell({ kind: "crash" }),
    close: () =>
      new Promise<void>((done) => {
        closing = true;
        clearTimeout(restartTimer);
        const timer = setTimeout(finish, 3000);
        function finish() {
          clearTimeout(timer);
          worker.terminate();
          active = false;
          done();
        }
        stopped = finish;
        tell({ kind: "stop" });
      }),
  };

  function restartLater(): void {
    if (closing) return;
    const delay = failedRestarts === 0 ? 0 : backoffDelay(failedRestarts - 1, RESTART, Math.random);
    failedRestarts++;
    restartTimer = setTimeout(spawn, delay);
  }

  function spawn(): void {
    const w = new Worker(path);
    worker = w;
    doorbell = -1;
    let gone = false;
    let reported = "";
    const died = (why: string) => {
      if (gone || closing) return;
      gone = true;
      // Its fd closed with it: a number the process may hand out again, never to be written.
      if (worker === w) doorbell = -1;
      w.terminate();
      if (firstResult) {
        active = false;
        firstResult.reject(new HypervisorError("internal", `libvirt event worker failed: ${why}`));
        firstResult = null;
        return;
      }
      if (connected) {
        connected = false;
        opts.onDisconnected(`the libvirt event Worker crashed (${reported || why}); restarting it`);
      }
      restartLater();
    };
    w.onerror = (e) => died(crashReason(e.message));
    w.addEventListener("close", () => died("the Worker exited"));
    w.onmessage = (ev: MessageEvent<FromEventWorker>) => {
      const m = ev.data;
      switch (m.kind) {
        case "doorbell":
          doorbell = m.fd;
          break;
        case "connected":
          connected = true;
          failedRestarts = 0;
          opts.onConnected(++connections);
          firstResult?.resolve(source);
          firstResult = null;
          break;
        case "disconnected":
          connected = false;
          opts.onDisconnected(m.reason);
          break;
        case "event":
          opts.onEvent(m.event);
          break;
        case "crashed":
          reported = m.reason;
          break;
        case "init-failed":
          gone = true;
          if (worker === w) doorbell = -1;
          w.terminate();
          if (firstResult) {
            active = false;
            firstResult.reject(fromWireError(m.error));
            firstResult = null;
          } else restartLater();
          break;
        case "stopped":
          stopped?.();
          break;
      }
    };
    w.postMessage({ kind: "init", uri: opts.uri, ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}) } satisfies ToEventWorker);
  }

  return new Promise((resolve, reject) => {
    firstResult = { resolve, reject };
    spawn();
  });
}
