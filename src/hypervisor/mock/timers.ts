// Every timer the mock starts, in one place: unref'd so the mock never keeps the process alive,
// and cleared together by close().

import { HypervisorError } from "../errors.ts";

export interface Timers {
  /** Calls fn after ms; returns a cancel function. Does nothing once cleared. */
  after(ms: number, fn: () => void): () => void;
  /** Resolves after ms; rejects with kind "cancelled" when signal aborts, "unavailable" on clear(). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Cancels everything pending; sleeps reject. */
  clear(): void;
  readonly pending: number;
}

export function createTimers(): Timers {
  const live = new Map<ReturnType<typeof setTimeout>, (() => void) | undefined>();
  let cleared = false;

  function after(ms: number, fn: () => void, onClear?: () => void): () => void {
    if (cleared) return () => {};
    const handle = setTimeout(
      () => {
        live.delete(handle);
        fn();
        // setTimeout fires at once beyond 2^31-1 ms; clamp so a huge timeout stays huge.
      },
      Math.min(Math.max(0, ms), 2 ** 31 - 1),
    );
    handle.unref?.();
    live.set(handle, onClear);
    return () => {
      clearTimeout(handle);
      live.delete(handle);
    };
  }

  function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const closed = () => new HypervisorError("unavailable", "the mock hypervisor was closed");
      if (cleared) return reject(closed());
      if (signal?.aborted) return reject(new HypervisorError("cancelled", "operation cancelled"));
      const onAbort = () => {
        cancel();
        reject(new HypervisorError("cancelled", "operation cancelled"));
      };
      const cancel = after(
        ms,
        () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        () => {
          signal?.removeEventListener("abort", onAbort);
          reject(closed());
        },
      );
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  function clear(): void {
    cleared = true;
    const pending = [...live];
    live.clear();
    for (const [handle, onClear] of pending) {
      clearTimeout(handle);
      onClear?.();
    }
  }

  return {
    after: (ms, fn) => after(ms, fn),
    sleep,
    clear,
    get pending() {
      return live.size;
    },
  };
}
