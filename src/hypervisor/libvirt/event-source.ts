// The API thread's side of the event Worker: starts it, waits for its first connection, and
// hands raw domain events and connection changes to the backend.

import { HypervisorError } from "../errors.ts";
import { fromWireError, type FromEventWorker, type RawDomainEvent, type ToEventWorker } from "./protocol.ts";
import { defaultWorkerPath, EVENT_WORKER_FILE } from "./worker-paths.ts";

export interface EventSourceOptions {
  uri: string;
  workerPath?: string;
  /** How often the loop returns to JS to check for stop and reconnection. */
  tickMs?: number;
  onEvent(event: RawDomainEvent): void;
  onConnected(attempt: number): void;
  onDisconnected(reason: string): void;
}

export interface EventSource {
  readonly connected: boolean;
  close(): Promise<void>;
}

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
  const worker = new Worker(opts.workerPath ?? defaultWorkerPath(EVENT_WORKER_FILE));
  let connected = false;
  let stopped: (() => void) | null = null;
  return new Promise((resolve, reject) => {
    const source: EventSource = {
      get connected() {
        return connected;
      },
      close: () =>
        new Promise<void>((done) => {
          const timer = setTimeout(finish, 3000);
          function finish() {
            clearTimeout(timer);
            worker.terminate();
            active = false;
            done();
          }
          stopped = finish;
          worker.postMessage({ kind: "stop" } satisfies ToEventWorker);
        }),
    };
    worker.onerror = (e) => {
      worker.terminate();
      active = false;
      reject(new HypervisorError("internal", `libvirt event worker failed: ${e.message}`));
    };
    worker.onmessage = (ev: MessageEvent<FromEventWorker>) => {
      const m = ev.data;
      switch (m.kind) {
        case "connected":
          connected = true;
          opts.onConnected(m.attempt);
          if (m.attempt === 1) resolve(source);
          break;
        case "disconnected":
          connected = false;
          opts.onDisconnected(m.reason);
          break;
        case "event":
          opts.onEvent(m.event);
          break;
        case "init-failed":
          worker.terminate();
          active = false;
          reject(fromWireError(m.error));
          break;
        case "stopped":
          stopped?.();
          break;
      }
    };
    worker.postMessage({ kind: "init", uri: opts.uri, ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}) } satisfies ToEventWorker);
  });
}
