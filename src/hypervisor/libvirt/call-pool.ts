// The API thread's side of the call Workers: three lanes of Workers (call-rules.ts says which
// op goes where), each Worker with its own libvirt connection running one call at a time, and a
// bounded queue per lane. A migration or a volume copy holds a long-lane Worker, never one of
// the Workers GetVMStatus needs; job control (progress, abort) has a Worker of its own.
//
// Every call has a deadline, counted from the moment it is made (queue wait included). A call
// still queued at its deadline, or whose client went away (the request's AbortSignal, see
// common/request-signal.ts), leaves the queue and never runs. A call already running cannot
// be stopped: its caller is answered at once and the late result is dropped, and the Worker is
// kept, not replaced. terminate() cannot interrupt a thread inside a C call (it only acts at
// the next JS safe point, after libvirt returns), and a Worker terminated then would take its
// open connection and domain handles with it unclosed, a reference leak on libvirtd for every
// timeout. libvirt's keepalive on every call connection (5 s x 3) bounds a call on a dead
// connection; one that libvirtd is slow to answer keeps that one Worker busy meanwhile while
// the lane's other Workers serve.

import { requestSignal } from "../../common/request-signal.ts";
import { HypervisorError } from "../errors.ts";
import { DEFAULT_CALL_DEADLINE_MS, LANES, type Lane, ruleOf } from "./call-rules.ts";
import { CallSlot, type CallOutcome } from "./call-slot.ts";
import type { OpName, Ops } from "./ops.ts";
import { CALL_WORKER_FILE, defaultWorkerPath } from "./worker-paths.ts";

export interface CallPoolOptions {
  uri: string;
  /** Short-lane Workers (hypervisor.libvirt_workers); default 4. */
  size?: number;
  /** Long-lane Workers, started when first needed (hypervisor.libvirt_long_workers); default 4. */
  longSize?: number;
  /** Calls that may wait in one lane's queue (hypervisor.libvirt_queue_limit); default 1024. */
  queueLimit?: number;
  /** The base deadline call-rules.ts scales per op (hypervisor.libvirt_call_deadline_ms). */
  callDeadlineMs?: number;
  workerPath?: string;
}

type Result<K extends OpName> = Awaited<ReturnType<Ops[K]>>;

export interface LaneFigures {
  workers: number;
  up: number;
  busy: number;
  queued: number;
}

export interface CallPool {
  call<K extends OpName>(op: K, ...args: Parameters<Ops[K]>): Promise<Result<K>>;
  /** Short-lane Workers. */
  readonly size: number;
  /** Calls waiting for a Worker, all lanes (diagnostics). */
  readonly queued: number;
  lanes(): Record<Lane, LaneFigures>;
  /** Why calls are refused right now (no short-lane Worker is running), or undefined. */
  unavailableReason(): string | undefined;
  /** Ends every Worker's reconnection backoff and restarts down Workers (libvirt is back). */
  retryNow(): void;
  /** Test hook: the Worker throws as a bug would make it (the production crash path runs). */
  crashWorkerForTest(lane?: Lane, index?: number): void;
  close(): Promise<void>;
}

interface Pending {
  op: string;
  args: unknown[];
  lane: LaneState;
  deadlineMs: number;
  /** Epoch ms; Infinity: none. */
  deadlineAt: number;
  started: boolean;
  settled: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface LaneState {
  name: Lane;
  slots: CallSlot[];
  /** Most Workers; the long lane starts them one by one as calls arrive. */
  max: number;
  queue: Pending[];
}

const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`);

export async function createCallPool(opts: CallPoolOptions): Promise<CallPool> {
  const path = opts.workerPath ?? defaultWorkerPath(CALL_WORKER_FILE);
  const queueLimit = Math.max(1, opts.queueLimit ?? 1024);
  const baseDeadline = opts.callDeadlineMs ?? DEFAULT_CALL_DEADLINE_MS;
  let closed = false;
  const lanes: Record<Lane, LaneState> = {
    short: { name: "short", slots: [], max: Math.max(1, opts.size ?? 4), queue: [] },
    long: { name: "long", slots: [], max: Math.max(1, opts.longSize ?? 4), queue: [] },
    control: { name: "control", slots: [], max: 1, queue: [] },
  };
  const laneOf = new Map<CallSlot, LaneState>();

  const hooks = {
    ready(slot: CallSlot) {
      const lane = laneOf.get(slot);
      if (lane) pump(lane);
    },
    down(slot: CallSlot) {
      const lane = laneOf.get(slot);
      // No Worker left to wait for: answer the queue now rather than at each call's deadline.
      if (lane && !lane.slots.some((s) => s.up)) for (const p of lane.queue.splice(0)) settle(p, { ok: false, error: noWorker(lane, p.op) });
    },
  };
  const addSlot = (lane: LaneState) => {
    const slot = new CallSlot(path, opts.uri, hooks);
    lane.slots.push(slot);
    laneOf.set(slot, lane);
    return slot;
  };

  function noWorker(lane: LaneState, op: string): HypervisorError {
    const down = lane.slots.filter((s) => s.state === "down");
    const next = Math.min(...down.map((s) => s.retryAt));
    const when = Number.isFinite(next) ? `; next attempt in ${Math.max(0, next - Date.now())} ms` : "";
    return new HypervisorError("unavailable", `libvirt ${op} cannot run: ${down[0]?.reason ?? "no libvirt call Worker is running"}${when}`);
  }

  function settle(p: Pending, o: CallOutcome): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    if (p.onAbort) p.signal?.removeEventListener("abort", p.onAbort);
    if (o.ok) p.resolve(o.value);
    else p.reject(o.error);
  }

  function pump(lane: LaneState): void {
    for (const slot of lane.slots) {
      if (slot.state !== "idle") continue;
      let p = lane.queue[0];
      // A call past its deadline never starts, even when its timer has not fired yet (a
      // busy thread can run Worker messages before due timers).
      while (p && Date.now() >= p.deadlineAt) {
        expire(p);
        p = lane.queue[0];
      }
      if (!p) return;
      lane.queue.shift();
      p.started = true;
      slot.run(p.op, p.args, (o) => settle(p, o));
    }
    // The long lane grows one Worker per waiting call, up to its size.
    if (lane.queue.length > lane.slots.filter((s) => s.state === "starting").length && lane.slots.length < lane.max && !closed) {
      addSlot(lane).startInBackground();
    }
  }

  function unqueue(p: Pending): boolean {
    const i = p.lane.queue.indexOf(p);
    if (i >= 0) p.lane.queue.splice(i, 1);
    return i >= 0;
  }

  function expire(p: Pending): void {
    const lane = p.lane;
    const ahead = lane.queue.indexOf(p);
    const busy = lane.slots.filter((s) => s.state === "busy").length;
    const message = unqueue(p)
      ? `libvirt call ${p.op} exceeded its ${seconds(p.deadlineMs)} deadline waiting in the ${lane.name} queue (${ahead} calls ahead of it, ${busy} of ${lane.slots.length} Workers busy); it never ran`
      : `libvirt call ${p.op} exceeded its ${seconds(p.deadlineMs)} deadline; libvirt is still working on it (a started call cannot be interrupted) and its result will be dropped`;
    settle(p, { ok: false, error: new HypervisorError("timeout", message) });
  }

  function cancel(p: Pending): void {
    const message = unqueue(p)
      ? `the client cancelled the call; libvirt ${p.op} was still queued and never ran`
      : `the client cancelled the call; libvirt ${p.op} had started: it finishes on its Worker and its result is dropped`;
    settle(p, { ok: false, error: new HypervisorError("cancelled", message) });
  }

  // Short and control Workers exist from the start: a libvirt that cannot be reached is a
  // start-up error, as before.
  const first = [...Array.from({ length: lanes.short.max }, () => addSlot(lanes.short)), addSlot(lanes.control)];
  const started = await Promise.allSettled(first.map((s) => s.start()));
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    closed = true;
    await Promise.all(first.map((s) => s.close()));
    throw (failed as PromiseRejectedResult).reason;
  }

  return {
    call<K extends OpName>(op: K, ...args: Parameters<Ops[K]>): Promise<Result<K>> {
      if (closed) return Promise.reject(new HypervisorError("unavailable", "the libvirt backend is closed"));
      const rule = ruleOf(op, baseDeadline);
      const lane = lanes[rule.lane];
      const signal = rule.cancellable ? requestSignal() : undefined;
      if (signal?.aborted) return Promise.reject(new HypervisorError("cancelled", `the client cancelled the call before libvirt ${op} was queued`));
      if (lane.slots.length > 0 && !lane.slots.some((s) => s.up)) return Promise.reject(noWorker(lane, op));
      if (lane.queue.length >= queueLimit) {
        const busy = lane.slots.filter((s) => s.state === "busy").length;
        return Promise.reject(
          new HypervisorError(
            "resource_exhausted",
            `libvirt is overloaded: ${lane.queue.length} ${lane.name} calls already wait for ${lane.slots.length} Workers (${busy} busy; queue limit ${queueLimit}); ${op} was refused, retry later`,
          ),
        );
      }
      return new Promise<Result<K>>((resolve, reject) => {
        const p: Pending = {
          op,
          args,
          lane,
          deadlineMs: rule.deadlineMs,
          deadlineAt: Date.now() + rule.deadlineMs,
          started: false,
          settled: false,
          resolve: resolve as (v: unknown) => void,
          reject,
        };
        if (Number.isFinite(rule.deadlineMs)) p.timer = setTimeout(() => expire(p), rule.deadlineMs);
        if (signal) {
          p.signal = signal;
          p.onAbort = () => cancel(p);
          signal.addEventListener("abort", p.onAbort, { once: true });
        }
        if (rule.urgent) lane.queue.unshift(p);
        else lane.queue.push(p);
        pump(lane);
      });
    },
    get size() {
      return lanes.short.max;
    },
    get queued() {
      return LANES.reduce((n, l) => n + lanes[l].queue.length, 0);
    },
    lanes() {
      const figures = (l: LaneState): LaneFigures => ({
        workers: l.slots.length,
        up: l.slots.filter((s) => s.up).length,
        busy: l.slots.filter((s) => s.state === "busy").length,
        queued: l.queue.length,
      });
      return { short: figures(lanes.short), long: figures(lanes.long), control: figures(lanes.control) };
    },
    unavailableReason() {
      if (closed || lanes.short.slots.some((s) => s.up)) return undefined;
      return noWorker(lanes.short, "calls").message;
    },
    retryNow() {
      for (const l of LANES) for (const slot of lanes[l].slots) slot.retryNow();
    },
    crashWorkerForTest(lane: Lane = "short", index = 0) {
      lanes[lane].slots[index]?.crashForTest();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const l of LANES)
        for (const p of lanes[l].queue.splice(0)) settle(p, { ok: false, error: new HypervisorError("unavailable", "the libvirt backend is closing") });
      await Promise.all(LANES.flatMap((l) => lanes[l].slots.map((s) => s.close())));
    },
  };
}
