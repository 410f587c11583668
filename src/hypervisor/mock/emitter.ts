// Synchronous fan-out of hypervisor events. A listener that throws must not break the VM
// operation that emitted the event, so its error is dropped here (listeners log their own).

import type { HypervisorEvent, HypervisorEventListener } from "../types.ts";

export interface Emitter {
  on(listener: HypervisorEventListener): () => void;
  emit(event: HypervisorEvent): void;
  readonly listeners: number;
}

export function createEmitter(): Emitter {
  const listeners = new Set<HypervisorEventListener>();
  return {
    on(listener) {
      // Wrapped so subscribing the same function twice gives two independent subscriptions.
      const entry: HypervisorEventListener = (event) => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    emit(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          // see the header comment
        }
      }
    },
    get listeners() {
      return listeners.size;
    },
  };
}
