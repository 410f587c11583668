// The API thread's side of the call Workers: a few Workers, each with its own libvirt
// connection, each running one request at a time. A request goes to an idle Worker or waits in
// a queue here, so a long call (a migration, a slow libvirtd) never holds up the others while
// another Worker is free, and the API thread itself never waits on libvirt.

import { HypervisorError } from "../errors.ts";
import type { Ops, OpName } from "./ops.ts";
import { fromWireError, type FromCallWorker, type ToCallWorker } from "./protocol.ts";
import { CALL_WORKER_FILE, defaultWorkerPath } from "./worker-paths.ts";

export interface CallPoolOptions {
  uri: string;
  /** Workers, hence concurrent libvirt calls. A migration holds one for its whole length. */
  size?: number;
  workerPath?: string;
}

type Result<K extends OpName> = Awaited<ReturnType<Ops[K]>>;

export interface CallPool {
  call<K extends OpName>(op: K, ...args: Parameters<Ops[K]>): Promise<Result<K>>;
  readonly size: number;
  /** Requests waiting for a free Worker (diagnostics). */
  readonly queued: number;
  /** Ends every Worker's reconnection backoff (libvirt is known to be back). */
  retryNow(): void;
  close(): Promise<void>;
}

interface Pending {
  op: string;
  args: unknown[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
  id: number;
}

function startWorker(path: string, uri: string): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path);
    worker.onerror = (e) => reject(new HypervisorError("internal", `libvirt call worker failed to start: ${e.message}`));
    worker.onmessage = (ev: MessageEvent<FromCallWorker>) => {
      if (ev.data.kind === "ready") resolve(worker);
      else if (ev.data.kind === "init-failed") {
        worker.terminate();
        reject(fromWireError(ev.data.error));
      }
    };
    worker.postMessage({ kind: "init", uri } satisfies ToCallWorker);
  });
}

export async function createCallPool(opts: CallPoolOptions): Promise<CallPool> {
  const size = Math.max(1, opts.size ?? 4);
  const path = opts.workerPath ?? defaultWorkerPath(CALL_WORKER_FILE);
  const started = await Promise.allSettled(Array.from({ length: size }, () => startWorker(path, opts.uri)));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    for (const r of started) if (r.status === "fulfilled") r.value.terminate();
    throw (failed as PromiseRejectedResult).reason;
  }
  const slots: Slot[] = started.map((r) => ({ worker: (r as PromiseFulfilledResult<Worker>).value, busy: null, id: 0 }));
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  function dispatch(slot: Slot): void {
    const next = queue.shift();
    if (!next) return;
    slot.busy = next;
    slot.id = nextId++;
    slot.worker.postMessage({ kind: "call", id: slot.id, op: next.op, args: next.args } satisfies ToCallWorker);
  }

  function wire(slot: Slot): void {
    slot.worker.onmessage = (ev: MessageEvent<FromCallWorker>) => {
      const m = ev.data;
      if (m.kind !== "result" || slot.busy === null || m.id !== slot.id) return;
      const p = slot.busy;
      slot.busy = null;
      if (m.ok) p.resolve(m.value);
      else p.reject(fromWireError(m.error));
      dispatch(slot);
    };
    slot.worker.onerror = (e) => {
      // A Worker that threw outside an op is broken: fail its request and replace it, keeping
      // the slot busy meanwhile so nothing is sent to the dead one.
      const p = slot.busy;
      slot.busy = { op: "restart", args: [], resolve: () => {}, reject: () => {} };
      p?.reject(new HypervisorError("internal", `libvirt call worker crashed: ${e.message}`));
      slot.worker.terminate();
      if (closed) return;
      startWorker(path, opts.uri).then(
        (worker) => {
          slot.worker = worker;
          slot.busy = null;
          wire(slot);
          dispatch(slot);
        },
        () => {
          // libvirt unreachable right now: the slot stays out of service; the others serve.
        },
      );
    };
  }
  for (const slot of slots) wire(slot);

  return {
    call<K extends OpName>(op: K, ...args: Parameters<Ops[K]>): Promise<Result<K>> {
      if (closed) return Promise.reject(new HypervisorError("unavailable", "the libvirt backend is closed"));
      return new Promise<Result<K>>((resolve, reject) => {
        queue.push({ op, args, resolve: resolve as (v: unknown) => void, reject });
        const idle = slots.find((s) => s.busy === null);
        if (idle) dispatch(idle);
      });
    },
    get size() {
      return slots.length;
    },
    get queued() {
      return queue.length;
    },
    retryNow() {
      // Each Worker reads it after its current call: a busy one is not interrupted.
      for (const slot of slots) slot.worker.postMessage({ kind: "retry-now" } satisfies ToCallWorker);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const p of queue.splice(0)) p.reject(new HypervisorError("unavailable", "the libvirt backend is closing"));
      await Promise.all(
        slots.map(
          (slot) =>
            new Promise<void>((resolve) => {
              // A Worker stuck in a long C call cannot answer: give it a moment, then terminate.
              const timer = setTimeout(done, slot.busy ? 200 : 2000);
              function done() {
                clearTimeout(timer);
                slot.busy?.reject(new HypervisorError("unavailable", "the libvirt backend closed during the call"));
                slot.busy = null;
                slot.worker.terminate();
                resolve();
              }
              slot.worker.onmessage = (ev: MessageEvent<FromCallWorker>) => {
                if (ev.data.kind === "closed") done();
              };
              slot.worker.postMessage({ kind: "close" } satisfies ToCallWorker);
            }),
        ),
      );
    },
  };
}
