// VM change events waiting for NotifyVMChange. At most one per VM (a newer event for the same VM
// is merged into the waiting one) and at most `limit` VMs: while the control plane is away the
// queue cannot grow past what the next full sync would correct anyway.
import type { VmChangeEvent } from "./vm-tracker.ts";

/**
 * The one event that tells the control plane what `older` then `newer` told it, or undefined
 * when together they tell it nothing. Pure.
 */
export function coalesce(older: VmChangeEvent, newer: VmChangeEvent): VmChangeEvent | undefined {
  if (older.type === "created") {
    // The control plane has not heard of the VM yet: it is new, in its latest state, or never was.
    if (newer.type === "updated") return { type: "created", vm: newer.vm, at: newer.at };
    if (newer.type === "deleted") return undefined;
  }
  // The state the control plane last heard of is the one before the first unsent change.
  if (older.type === "updated" && newer.type === "updated") return { ...newer, previous: older.previous };
  return newer;
}

export interface NotifyQueue {
  /** Adds (or merges) an event; returns the oldest event dropped to stay within the limit. */
  push(event: VmChangeEvent): VmChangeEvent | undefined;
  /** The oldest event, removed. */
  shift(): VmChangeEvent | undefined;
  /**
   * An event whose send failed goes back to the front, merged with anything newer for its VM;
   * returns it when there is no room left for it.
   */
  putBack(event: VmChangeEvent): VmChangeEvent | undefined;
  clear(): void;
  readonly size: number;
}

export function createNotifyQueue(limit: number): NotifyQueue {
  // Map order is insertion order: the first key is the oldest.
  let waiting = new Map<string, VmChangeEvent>();
  return {
    push(event) {
      const id = event.vm.id;
      const older = waiting.get(id);
      const merged = older === undefined ? event : coalesce(older, event);
      waiting.delete(id);
      if (merged !== undefined) waiting.set(id, merged);
      if (waiting.size <= limit) return undefined;
      const [oldestId, oldest] = waiting.entries().next().value!;
      waiting.delete(oldestId);
      return oldest;
    },
    shift() {
      const first = waiting.entries().next();
      if (first.done) return undefined;
      waiting.delete(first.value[0]);
      return first.value[1];
    },
    putBack(event) {
      const id = event.vm.id;
      const newer = waiting.get(id);
      const merged = newer === undefined ? event : coalesce(event, newer);
      const rest = [...waiting].filter(([key]) => key !== id);
      // It is the oldest event: when the queue filled up meanwhile, it is the one dropped.
      if (merged === undefined || rest.length >= limit) {
        waiting = new Map(rest);
        return merged;
      }
      waiting = new Map([[id, merged], ...rest]);
      return undefined;
    },
    clear() {
      waiting.clear();
    },
    get size() {
      return waiting.size;
    },
  };
}
