// The messages between the API thread and the libvirt Workers. Everything is structured-clone
// data; errors cross as WireError and become HypervisorError again on the main side.

import { HypervisorError, type HypervisorErrorKind } from "../errors.ts";

export interface WireError {
  kind: HypervisorErrorKind;
  message: string;
  field?: string;
  /** libvirt's virErrorNumber and virErrorDomain when libvirt raised it. */
  code?: number;
  domain?: number;
}

export type ToCallWorker =
  | { kind: "init"; uri: string }
  | { kind: "call"; id: number; op: string; args: unknown[] }
  /** libvirt is back (the event Worker reconnected): retry at once instead of after the backoff. */
  | { kind: "retry-now" }
  | { kind: "close" }
  /** Test hook (crashWorkerForTest): throw, so the Worker dies the way a bug would kill it. */
  | { kind: "crash" };

export type FromCallWorker =
  | { kind: "ready" }
  | { kind: "init-failed"; error: WireError }
  | { kind: "result"; id: number; ok: true; value: unknown }
  | { kind: "result"; id: number; ok: false; error: WireError }
  | { kind: "closed" }
  /** Posted by the Worker's last-chance error handler just before it dies. */
  | { kind: "crashed"; reason: string };

/** A libvirt domain event as the event Worker saw it. */
export type RawDomainEvent =
  | { kind: "lifecycle"; uuid: string; name: string; event: number; detail: number }
  | { kind: "device-added" | "device-removed"; uuid: string; name: string; alias: string };

export type ToEventWorker = { kind: "init"; uri: string; tickMs?: number } | { kind: "stop" } | { kind: "crash" };

export type FromEventWorker =
  /** The eventfd to ring after every message posted to the Worker (ffi/doorbell.ts). */
  | { kind: "doorbell"; fd: number }
  | { kind: "connected"; attempt: number }
  | { kind: "disconnected"; reason: string }
  | { kind: "init-failed"; error: WireError }
  | { kind: "event"; event: RawDomainEvent }
  | { kind: "stopped" }
  | { kind: "crashed"; reason: string };

export function toWireError(err: unknown): WireError {
  if (err instanceof HypervisorError) {
    const w: WireError = { kind: err.kind, message: err.message };
    if (err.field !== undefined) w.field = err.field;
    const lv = err as HypervisorError & { code?: unknown; errorDomain?: unknown };
    if (typeof lv.code === "number") w.code = lv.code;
    if (typeof lv.errorDomain === "number") w.domain = lv.errorDomain;
    return w;
  }
  return { kind: "internal", message: err instanceof Error ? err.message : String(err) };
}

/** The error a caller sees; libvirt's code and domain ride along for logs. */
export class WorkerCallError extends HypervisorError {
  constructor(
    w: WireError,
    readonly libvirtCode?: number,
    readonly libvirtDomain?: number,
  ) {
    super(w.kind, w.message, w.field);
  }
}

/** The first line of an uncaught error's text (Bun's ErrorEvent message carries the source excerpt too). */
export function crashReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n", 1)[0] || "unknown error";
}

export function fromWireError(w: WireError): HypervisorError {
  return new WorkerCallError(w, w.code, w.domain);
}
