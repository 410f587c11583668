// One call Worker of the pool, with its own libvirt connection, and what keeps it in service: a
// Worker that dies (an uncaught error, an exit) fails the call it was running and is replaced at
// once; a replacement that cannot start (libvirtd is down, so the Worker's first connection
// fails) is retried with the shared backoff for as long as the pool lives, never given up.

import { backoffDelay } from "../../common/backoff.ts";
import { HypervisorError } from "../errors.ts";
import { crashReason, fromWireError, type FromCallWorker, type ToCallWorker } from "./protocol.ts";

/** Restarts: the first at once, then 250 ms doubling up to 5 s (the event Worker's pace). */
const RESTART = { initialMs: 250, maxMs: 5000 };

export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: HypervisorError };

export interface SlotHooks {
  /** The slot can take a call (started, restarted, or its call answered). */
  ready(slot: CallSlot): void;
  /** The slot lost its Worker, or a restart failed; `slot.reason` says why. */
  down(slot: CallSlot): void;
}

/** Starts a Worker and waits for its libvirt connection. */
export function startCallWorker(path: string, uri: string): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path);
    worker.onerror = (e) => {
      worker.terminate();
      reject(new HypervisorError("internal", `libvirt call worker failed to start: ${crashReason(e.message)}`));
    };
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

let nextCallId = 1;

export class CallSlot {
  /** "down": no Worker (crashed, or its restart failed); a restart is scheduled. */
  state: "starting" | "idle" | "busy" | "down" | "closed" = "starting";
  /** Why the slot is down. */
  reason = "";
  /** When the next restart attempt runs (epoch ms), while down. */
  retryAt = 0;
  private worker: Worker | null = null;
  private current: { id: number; op: string; done: (o: CallOutcome) => void } | null = null;
  private failedRestarts = 0;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly path: string,
    private readonly uri: string,
    private readonly hooks: SlotHooks,
  ) {}

  /** Idle, busy, or on its way up: calls may wait for it. */
  get up(): boolean {
    return this.state === "starting" || this.state === "idle" || this.state === "busy";
  }

  /** The first start: its failure is the caller's (the pool does not come up at all). */
  async start(): Promise<void> {
    this.adopt(await startCallWorker(this.path, this.uri));
  }

  /** Starts in the background; a failure schedules retries like a crash does. */
  startInBackground(): void {
    this.restart();
  }

  run(op: string, args: unknown[], done: (o: CallOutcome) => void): void {
    if (this.state !== "idle" || this.worker === null) throw new HypervisorError("internal", `call slot is ${this.state}, not idle`);
    const id = nextCallId++;
    this.current = { id, op, done };
    this.state = "busy";
    this.worker.postMessage({ kind: "call", id, op, args } satisfies ToCallWorker);
  }

  /** libvirt is back: reconnect now rather than after the backoff; a down slot restarts now. */
  retryNow(): void {
    if (this.state === "down") {
      clearTimeout(this.restartTimer);
      this.restart();
    } else this.worker?.postMessage({ kind: "retry-now" } satisfies ToCallWorker);
  }

  /** Test hook: makes the Worker throw, so the crash path below is the one production runs. */
  crashForTest(): void {
    this.worker?.postMessage({ kind: "crash" } satisfies ToCallWorker);
  }

  private adopt(worker: Worker): void {
    let gone = false;
    let reported = "";
    const died = (why: string) => {
      if (gone || this.worker !== worker || this.state === "closed") return;
      gone = true;
      this.crashed(reported || why);
    };
    worker.onmessage = (ev: MessageEvent<FromCallWorker>) => {
      const m = ev.data;
      if (m.kind === "crashed") reported = m.reason;
      if (m.kind !== "result" || this.current === null || m.id !== this.current.id) return;
      const { done } = this.current;
      this.current = null;
      this.state = "idle";
      done(m.ok ? { ok: true, value: m.value } : { ok: false, error: fromWireError(m.error) });
      this.hooks.ready(this);
    };
    worker.onerror = (e) => died(crashReason(e.message));
    worker.addEventListener("close", () => died("the Worker exited"));
    this.worker = worker;
    this.state = "idle";
    this.failedRestarts = 0;
    this.reason = "";
    this.hooks.ready(this);
  }

  private crashed(why: string): void {
    this.worker?.terminate();
    this.worker = null;
    const call = this.current;
    this.current = null;
    this.state = "down";
    this.reason = `a libvirt call Worker crashed (${why})`;
    call?.done({
      ok: false,
      error: new HypervisorError("unavailable", `the libvirt call Worker running ${call.op} crashed (${why}); it is being replaced, retry the call`),
    });
    this.hooks.down(this);
    this.restart();
  }

  private restart(): void {
    if (this.state === "closed") return;
    this.state = "starting";
    startCallWorker(this.path, this.uri).then(
      (worker) => {
        if (this.state === "closed") worker.terminate();
        else this.adopt(worker);
      },
      (err: unknown) => {
        if (this.state === "closed") return;
        const delay = backoffDelay(this.failedRestarts++, RESTART, Math.random);
        this.state = "down";
        this.reason = `no libvirt call Worker could be started (${err instanceof Error ? err.message : String(err)})`;
        this.retryAt = Date.now() + delay;
        this.restartTimer = setTimeout(() => this.restart(), delay);
        this.hooks.down(this);
      },
    );
  }

  /** Ends the Worker; a call still running is answered "unavailable". */
  close(): Promise<void> {
    const wasBusy = this.state === "busy";
    this.state = "closed";
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    const fail = () => {
      const call = this.current;
      this.current = null;
      call?.done({ ok: false, error: new HypervisorError("unavailable", "the libvirt backend closed during the call") });
    };
    if (worker === null) {
      fail();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      // A Worker stuck in a long C call cannot answer: give it a moment, then terminate.
      const timer = setTimeout(done, wasBusy ? 200 : 2000);
      function done() {
        clearTimeout(timer);
        fail();
        worker?.terminate();
        resolve();
      }
      worker.onerror = null;
      worker.onmessage = (ev: MessageEvent<FromCallWorker>) => {
        if (ev.data.kind === "closed") done();
      };
      worker.postMessage({ kind: "close" } satisfies ToCallWorker);
    });
  }
}
