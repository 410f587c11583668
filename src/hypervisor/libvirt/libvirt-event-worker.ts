// A Worker that runs libvirt's default event loop and forwards domain events to the API
// thread. libvirt calls the callbacks on this thread (the one iterating the loop), so they are
// JSCallbacks made here with threadsafe: false and an i32 return, kept referenced until they
// are deregistered. The loop returns to JS's event loop, where the stop flag, reconnection and
// incoming messages are handled, when the doorbell the API thread rings after posting a message
// rang, when the connection is in question, or, only while reconnecting, on every tick.

import { JSCallback, type Pointer } from "bun:ffi";
import * as ffi from "./ffi/index.ts";
import { backoffCeiling } from "../../common/backoff.ts";
import { crashReason, toWireError, type FromEventWorker, type RawDomainEvent, type ToEventWorker } from "./protocol.ts";

declare const self: Worker;

const post = (m: FromEventWorker) => self.postMessage(m);

let lv: ffi.Libvirt;
let uri = "";
let tickMs = 200;
let conn: ffi.Connection | null = null;
let registrations: number[] = [];
let closeRegistered = false;
let lostReason: string | null = null;
let stopping = false;
/** Test hook (crashWorkerForTest): the next loop iteration throws. */
let crashRequested = false;
let attempt = 0;
/** Reconnection: 250 ms after the first failure, doubling up to 5 s. */
const RECONNECT = { initialMs: 250, maxMs: 5000 };
let nextAttemptAt = 0;
let failures = 0;
let timerId = -1;
/** The tick's current period: -1 while nothing needs it (see syncTick). */
let tickPeriod = 0;
/**
 * The API thread rings it after every message it posts (ffi/doorbell.ts), so an idle loop can
 * sleep in poll() with no tick at all and still read a stop (or a test's crash) at once.
 */
let doorbell: ffi.Doorbell | undefined;
let doorbellWatch = -1;
/**
 * Rings heard minus messages received. The API thread rings once per message, after posting it:
 * above 0, a message is on its way through JS's event loop and the loop must not sleep in poll()
 * before it has arrived (nothing would ring again for it).
 */
let unreceived = 0;

function domainIdentity(dom: Pointer | null): { uuid: string; name: string } | null {
  if (conn === null || dom === null) return null;
  try {
    return { uuid: ffi.domainUuid(conn, dom), name: ffi.domainName(conn, dom) };
  } catch {
    return null;
  }
}

function forward(dom: Pointer | null, make: (id: { uuid: string; name: string }) => RawDomainEvent): void {
  const id = domainIdentity(dom);
  if (id) post({ kind: "event", event: make(id) });
}

// int (*)(virConnectPtr, virDomainPtr, int event, int detail, void *opaque)
const lifecycleCb = new JSCallback(
  (_c: Pointer, dom: Pointer | null, event: number, detail: number) => {
    forward(dom, (id) => ({ kind: "lifecycle", ...id, event, detail }));
    return 0;
  },
  { args: ["ptr", "ptr", "i32", "i32", "ptr"], returns: "i32", threadsafe: false },
);
// void (*)(virConnectPtr, virDomainPtr, const char *devAlias, void *opaque); the i32 return is ignored by C.
const deviceCb = (kind: "device-added" | "device-removed") =>
  new JSCallback(
    (_c: Pointer, dom: Pointer | null, alias: Pointer | null) => {
      forward(dom, (id) => ({ kind, ...id, alias: ffi.borrowString(alias) ?? "" }));
      return 0;
    },
    { args: ["ptr", "ptr", "ptr", "ptr"], returns: "i32", threadsafe: false },
  );
const deviceAddedCb = deviceCb("device-added");
const deviceRemovedCb = deviceCb("device-removed");
// void (*)(virConnectPtr, int reason, void *opaque): 0 error, 1 EOF, 2 keepalive, 3 client
const CLOSE_REASONS = ["I/O error", "end of file (libvirtd stopped?)", "keepalive timeout", "closed by client"];
const closeCb = new JSCallback(
  (_c: Pointer, reason: number) => {
    lostReason = CLOSE_REASONS[reason] ?? `reason ${reason}`;
    return 0;
  },
  { args: ["ptr", "i32", "ptr"], returns: "i32", threadsafe: false },
);
// void (*)(int timer, void *opaque): only there to make the loop return to JS.
const tickCb = new JSCallback(() => 0, { args: ["i32", "ptr"], returns: "i32", threadsafe: false });
// void (*)(int watch, int fd, int events, void *opaque): the doorbell rang; the message follows.
const doorbellCb = new JSCallback(
  () => {
    unreceived += doorbell?.drain() ?? 0;
    return 0;
  },
  { args: ["i32", "i32", "i32", "ptr"], returns: "i32", threadsafe: false },
);

/**
 * The tick wakes the loop only while it has work: reconnecting, or watching a connection whose
 * loss no close callback would report. Connected, the loop sleeps until libvirt has an event or
 * a keepalive for it, or the doorbell rings (an idle daemon: bench/README.md, "A host's shape").
 */
function syncTick(): void {
  if (timerId < 0) return;
  const wanted = doorbell === undefined || conn === null || !closeRegistered ? tickMs : -1;
  if (wanted === tickPeriod) return;
  ffi.updateTimeout(lv, timerId, wanted);
  tickPeriod = wanted;
}

function closeDoorbell(): void {
  if (doorbellWatch >= 0) ffi.removeHandle(lv, doorbellWatch);
  doorbellWatch = -1;
  doorbell?.close();
  doorbell = undefined;
}

function ptrOf(cb: JSCallback): Pointer {
  if (cb.ptr === null) throw new Error("callback closed");
  return cb.ptr;
}

function connect(): void {
  const c = ffi.openConnection(lv, uri);
  conn = c;
  try {
    ffi.setKeepAlive(c, 5, 3);
    closeRegistered = ffi.registerCloseCallback(c, ptrOf(closeCb));
    registrations.push(ffi.registerDomainEvent(c, ffi.DOMAIN_EVENT_ID.LIFECYCLE, ptrOf(lifecycleCb)));
    registrations.push(ffi.registerDomainEvent(c, ffi.DOMAIN_EVENT_ID.DEVICE_ADDED, ptrOf(deviceAddedCb)));
    registrations.push(ffi.registerDomainEvent(c, ffi.DOMAIN_EVENT_ID.DEVICE_REMOVED, ptrOf(deviceRemovedCb)));
  } catch (err) {
    // Half registered is worse than not connected: undo, and let the caller retry.
    disconnect();
    throw err;
  }
  lostReason = null;
  attempt++;
  post({ kind: "connected", attempt });
}

function disconnect(): void {
  if (conn === null) return;
  for (const id of registrations) ffi.deregisterDomainEvent(conn, id);
  registrations = [];
  if (closeRegistered) ffi.unregisterCloseCallback(conn, ptrOf(closeCb));
  closeRegistered = false;
  ffi.closeConnection(conn);
  conn = null;
}

function checkConnection(): void {
  if (conn !== null && (lostReason !== null || !ffi.isAlive(conn))) {
    const reason = lostReason ?? "connection lost";
    disconnect();
    post({ kind: "disconnected", reason });
    failures = 0;
    nextAttemptAt = 0;
  }
  if (conn === null && Date.now() >= nextAttemptAt) {
    try {
      connect();
      failures = 0;
    } catch (err) {
      nextAttemptAt = Date.now() + backoffCeiling(failures++, RECONNECT);
      lv.sym.virResetLastError();
      void err;
    }
  }
}

function finish(): void {
  disconnect();
  if (timerId >= 0) ffi.removeTimeout(lv, timerId);
  timerId = -1;
  if (doorbellWatch >= 0) ffi.removeHandle(lv, doorbellWatch);
  doorbellWatch = -1;
  // Let libvirt drop its references to the callbacks (removals finish on later iterations)
  // before they are freed; a short spare timer keeps each iteration brief.
  const until = Date.now() + 100;
  const spare = new JSCallback(() => 0, { args: ["i32", "ptr"], returns: "i32", threadsafe: false });
  const t = ffi.addTimeout(lv, 20, ptrOf(spare));
  while (Date.now() < until) ffi.runDefaultEventImpl(lv);
  // No iteration after this: with no timer left, it could block for good.
  ffi.removeTimeout(lv, t);
  for (const cb of [lifecycleCb, deviceAddedCb, deviceRemovedCb, closeCb, tickCb, doorbellCb]) cb.close();
  closeDoorbell();
  post({ kind: "stopped" });
  // `spare` stays open: its removal is only final after another iteration nobody will run.
}

/**
 * Whether an iteration that ended may go straight on to the next without JS's event loop: no
 * message is on its way (see unreceived), no tick runs, the connection is not in question.
 * libvirt's client takes its socket off the loop before every RPC another thread makes and puts
 * it back after, and each change ends the loop's current iteration: twice per call of the call
 * Worker. A turn of JS's event loop for each added 5-20 us of this thread's CPU per call
 * (bench/probes/call-thread-cpu.ts); going round in here costs libvirt's iteration only.
 */
function mayIterateAgain(): boolean {
  return unreceived <= 0 && tickPeriod === -1 && conn !== null && lostReason === null;
}

function iterate(): void {
  do ffi.runDefaultEventImpl(lv);
  while (mayIterateAgain());
}

function loop(): void {
  if (crashRequested) throw new Error("crash requested by a test (crashWorkerForTest)");
  if (stopping) {
    finish();
    return;
  }
  if (unreceived > 0) {
    // JS's event loop delivers the message first.
    setTimeout(loop, 0);
    return;
  }
  try {
    iterate();
  } catch {
    lv.sym.virResetLastError();
  }
  checkConnection();
  syncTick();
  setTimeout(loop, 0);
}

// Last chance before an uncaught error ends this Worker. libvirt's event loop is process-wide
// and outlives it: anything left registered (the tick timer, the connection's callbacks) would
// be fired by the replacement Worker's loop into this Worker's freed callbacks. Deregister and
// close now; libvirt only marks them deleted and never calls them again. Then say why.
self.addEventListener("error", (ev) => {
  try {
    disconnect();
    if (timerId >= 0) ffi.removeTimeout(lv, timerId);
    timerId = -1;
    // Unwatched but left open: the API thread may ring it until it hears of the crash, and a
    // closed number could by then belong to another file. One fd per crash is the price.
    if (doorbellWatch >= 0) ffi.removeHandle(lv, doorbellWatch);
    doorbellWatch = -1;
  } catch {}
  post({ kind: "crashed", reason: crashReason((ev as ErrorEvent).error ?? (ev as ErrorEvent).message) });
});

self.onmessage = (ev: MessageEvent<ToEventWorker>) => {
  const m = ev.data;
  // Every message after init comes with a ring once the API thread knows the doorbell; a stop
  // (or a test's crash) posted before that leaves the count below 0: the loop goes on as it would.
  if (m.kind !== "init") unreceived--;
  if (m.kind === "stop") {
    stopping = true;
    return;
  }
  if (m.kind === "crash") {
    crashRequested = true;
    return;
  }
  uri = m.uri;
  tickMs = m.tickMs ?? tickMs;
  try {
    lv = ffi.loadLibvirt();
    // Before any connection in this process: it serves their events and keepalives.
    ffi.registerDefaultEventImpl(lv);
    timerId = ffi.addTimeout(lv, tickMs, ptrOf(tickCb));
    tickPeriod = tickMs;
    doorbell = ffi.openDoorbell();
    if (doorbell !== undefined) {
      doorbellWatch = ffi.addHandle(lv, doorbell.fd, ffi.EVENT_READABLE, ptrOf(doorbellCb));
      post({ kind: "doorbell", fd: doorbell.fd });
    }
    connect();
    syncTick();
  } catch (err) {
    // libvirt's event loop is one per process: a timer left behind would be fired by the next
    // event Worker's loop into this Worker's freed callback once the API thread terminates it.
    if (timerId >= 0) ffi.removeTimeout(lv, timerId);
    timerId = -1;
    closeDoorbell();
    post({ kind: "init-failed", error: toWireError(err) });
    return;
  }
  setTimeout(loop, 0);
};
