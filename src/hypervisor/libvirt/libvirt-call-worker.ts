// A Worker that owns one libvirt connection and runs ops for the API thread, one at a time.
// Blocking C calls stall only this thread. It reconnects by itself when the connection dies
// (libvirtd restarted), backing off so a down daemon is answered "unavailable" at once.

import * as ffi from "./ffi/index.ts";
import { backoffCeiling } from "../../common/backoff.ts";
import { HypervisorError } from "../errors.ts";
import { createOps, type Ops } from "./ops.ts";
import { crashReason, toWireError, type FromCallWorker, type ToCallWorker } from "./protocol.ts";

declare const self: Worker;

const post = (m: FromCallWorker) => self.postMessage(m);

let lv: ffi.Libvirt | undefined;
let uri = "";
let conn: ffi.Connection | null = null;
/** Reconnection: 250 ms after the first failure, doubling up to 4 s. */
const RECONNECT = { initialMs: 250, maxMs: 4000 };
let nextAttemptAt = 0;
let failures = 0;
let lastFailure = "";

/** The live connection, reopened when needed. */
function connection(): ffi.Connection {
  if (!lv) throw new HypervisorError("internal", "call worker used before init");
  if (conn !== null && ffi.isAlive(conn)) return conn;
  if (conn !== null) {
    ffi.closeConnection(conn);
    conn = null;
  }
  const now = Date.now();
  if (now < nextAttemptAt) {
    throw new HypervisorError("unavailable", `libvirt at ${uri} is unreachable (${lastFailure}); retrying in ${nextAttemptAt - now} ms`);
  }
  try {
    conn = ffi.openConnection(lv, uri);
    ffi.setKeepAlive(conn, 5, 3);
    failures = 0;
    nextAttemptAt = 0;
    return conn;
  } catch (err) {
    nextAttemptAt = now + backoffCeiling(failures++, RECONNECT);
    lastFailure = err instanceof Error ? err.message : String(err);
    throw new HypervisorError("unavailable", `libvirt at ${uri} is unreachable: ${lastFailure}`);
  }
}

const ops: Ops = createOps(connection);

function run(id: number, op: string, args: unknown[]): void {
  const fn = (ops as unknown as Record<string, (...a: unknown[]) => unknown>)[op];
  try {
    if (typeof fn !== "function") throw new HypervisorError("internal", `unknown libvirt op ${op}`);
    post({ kind: "result", id, ok: true, value: fn(...args) });
  } catch (err) {
    const wire = toWireError(err);
    // A call that failed because the daemon went away: drop the connection now, so the next
    // call reconnects instead of trying a dead socket.
    if (conn !== null && wire.code !== undefined && ffi.isConnectionLost({ code: wire.code }) && !ffi.isAlive(conn)) {
      ffi.closeConnection(conn);
      conn = null;
    }
    post({ kind: "result", id, ok: false, error: wire });
  }
}

// Last chance before an uncaught error ends this Worker: close the connection (a Worker that
// dies with it open leaves it to libvirtd until the process exits) and say why.
self.addEventListener("error", (ev) => {
  if (conn !== null) {
    try {
      ffi.closeConnection(conn);
    } catch {}
    conn = null;
  }
  post({ kind: "crashed", reason: crashReason((ev as ErrorEvent).error ?? (ev as ErrorEvent).message) });
});

self.onmessage = (ev: MessageEvent<ToCallWorker>) => {
  const m = ev.data;
  switch (m.kind) {
    case "init":
      uri = m.uri;
      try {
        lv = ffi.loadLibvirt();
        connection();
        post({ kind: "ready" });
      } catch (err) {
        post({ kind: "init-failed", error: toWireError(err) });
      }
      break;
    case "call":
      run(m.id, m.op, m.args);
      break;
    case "retry-now":
      nextAttemptAt = 0;
      failures = 0;
      break;
    case "close":
      if (conn !== null) ffi.closeConnection(conn);
      conn = null;
      post({ kind: "closed" });
      break;
    case "crash":
      throw new Error("crash requested by a test (crashWorkerForTest)");
  }
};
