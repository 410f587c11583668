// The default event loop and domain event registration. Callbacks (JSCallback) are created by
// the caller on the thread that runs the loop, which must keep them alive until deregistered.

import type { Pointer } from "bun:ffi";
import type { Connection } from "./connection.ts";
import { fail } from "./errors.ts";
import type { Libvirt } from "./library.ts";

export const DOMAIN_EVENT_ID = { LIFECYCLE: 0, REBOOT: 1, DEVICE_REMOVED: 15, DEVICE_ADDED: 19 } as const;

/** Process-wide; must run before the connections whose events (and keepalive) it should serve. */
export function registerDefaultEventImpl(lv: Libvirt): void {
  if (lv.sym.virEventRegisterDefaultImpl() < 0) fail(lv, "register default event loop");
}

/** One loop iteration: blocks until an event or timer fires. */
export function runDefaultEventImpl(lv: Libvirt): void {
  if (lv.sym.virEventRunDefaultImpl() < 0) fail(lv, "event loop iteration");
}

export function addTimeout(lv: Libvirt, periodMs: number, cb: Pointer): number {
  const id = lv.sym.virEventAddTimeout(periodMs, cb, null, null);
  if (id < 0) fail(lv, "add event timeout");
  return id;
}

export function removeTimeout(lv: Libvirt, id: number): void {
  lv.sym.virEventRemoveTimeout(id);
}

/** A new period for a timeout: -1 disables it (no wakeups), 0 fires it on every iteration. */
export function updateTimeout(lv: Libvirt, id: number, periodMs: number): void {
  lv.sym.virEventUpdateTimeout(id, periodMs);
}

/** VIR_EVENT_HANDLE_READABLE */
export const EVENT_READABLE = 1;

/** Watches fd in the default loop; cb is void (*)(int watch, int fd, int events, void *opaque). */
export function addHandle(lv: Libvirt, fd: number, events: number, cb: Pointer): number {
  const id = lv.sym.virEventAddHandle(fd, events, cb, null, null);
  if (id < 0) fail(lv, "add event handle");
  return id;
}

export function removeHandle(lv: Libvirt, id: number): void {
  if (lv.sym.virEventRemoveHandle(id) < 0) lv.sym.virResetLastError();
}

export function registerDomainEvent(c: Connection, eventId: number, cb: Pointer): number {
  const id = c.lv.sym.virConnectDomainEventRegisterAny(c.ptr, null, eventId, cb, null, null);
  if (id < 0) fail(c.lv, `register domain event ${eventId}`);
  return id;
}

export function deregisterDomainEvent(c: Connection, callbackId: number): void {
  if (c.lv.sym.virConnectDomainEventDeregisterAny(c.ptr, callbackId) < 0) c.lv.sym.virResetLastError();
}

export function registerCloseCallback(c: Connection, cb: Pointer): boolean {
  const ok = c.lv.sym.virConnectRegisterCloseCallback(c.ptr, cb, null, null) === 0;
  if (!ok) c.lv.sym.virResetLastError();
  return ok;
}

export function unregisterCloseCallback(c: Connection, cb: Pointer): void {
  if (c.lv.sym.virConnectUnregisterCloseCallback(c.ptr, cb) < 0) c.lv.sym.virResetLastError();
}
