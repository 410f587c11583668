// The abort signal of the API request being served, carried by an AsyncLocalStorage instead of
// a parameter on every Hypervisor method: one server interceptor sets it (requestSignalInterceptor
// in server/interceptors.ts) and the libvirt call pool reads it, so a client that goes away takes
// its queued libvirt calls with it. Work shared by many requests (the metrics read every
// StreamMetrics subscriber waits on) runs outsideRequest, so no one client's leaving cancels it.

import { AsyncLocalStorage } from "node:async_hooks";

const store = new AsyncLocalStorage<AbortSignal>();

/** Runs fn (and everything it starts: promises, timers, generator steps) as part of the request. */
export function withRequestSignal<T>(signal: AbortSignal, fn: () => T): T {
  return store.run(signal, fn);
}

/** The signal of the request this code runs for; undefined outside any request. */
export function requestSignal(): AbortSignal | undefined {
  return store.getStore();
}

/** Runs fn detached from the current request: shared or background work. */
export function outsideRequest<T>(fn: () => T): T {
  return store.exit(fn);
}
