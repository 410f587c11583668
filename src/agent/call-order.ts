// The order requests reach a guest: for each VM, requests are written to its agent channel in the
// order the calls reached the agent manager (the order their RPCs arrived), whatever each call
// awaits before its write (a libvirt lookup, the connection). A call takes its turn the moment it
// arrives, waits for the turns before it to write, writes, and lets the next one go. Together
// with a guest that answers in the order it reads (the test guest's agent answers its commands
// that way), replies come back in call order; they are still matched by message_id.

export interface Turn {
  /** Resolves once every earlier turn on the same key is done. */
  ready(): Promise<void>;
  /** Lets the next turn go; idempotent (call it after writing, and again in a finally). */
  done(): void;
}

export interface CallOrder {
  /** Takes the next turn for key, synchronously. */
  take(key: string): Turn;
  /** Keys with turns not yet done (leak checks). */
  size(): number;
}

export function createCallOrder(): CallOrder {
  const queues = new Map<string, { last: Promise<void>; open: number }>();
  return {
    take(key) {
      let q = queues.get(key);
      if (!q) {
        q = { last: Promise.resolve(), open: 0 };
        queues.set(key, q);
      }
      const queue = q;
      const before = queue.last;
      let release!: () => void;
      queue.last = new Promise<void>((resolve) => {
        release = resolve;
      });
      queue.open++;
      let finished = false;
      return {
        ready: () => before,
        done() {
          if (finished) return;
          finished = true;
          // A turn done early (its call failed before writing) still lets the next one go only
          // after the turns before it.
          void before.then(release);
          if (--queue.open === 0 && queues.get(key) === queue) queues.delete(key);
        },
      };
    },
    size: () => queues.size,
  };
}
