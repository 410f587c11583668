// Serializes operations per VM: two racing StartVM calls on one VM run one after the other (the
// second then sees "already running"), while operations on different VMs run in parallel.
// An id's entry lives only while something holds or waits for it, so idle VMs cost nothing.

export interface VmLocks {
  /** Runs fn once every earlier operation on this id has settled; resolves or rejects as fn does. */
  run<T>(id: string, fn: () => Promise<T> | T): Promise<T>;
  /** Ids with an operation running or queued (for tests and diagnostics). */
  readonly activeIds: number;
}

interface Entry {
  /** Settles when the last queued operation on this id has finished. */
  tail: Promise<void>;
  pending: number;
}

export function createVmLocks(): VmLocks {
  const entries = new Map<string, Entry>();

  async function run<T>(id: string, fn: () => Promise<T> | T): Promise<T> {
    let entry = entries.get(id);
    if (!entry) {
      entry = { tail: Promise.resolve(), pending: 0 };
      entries.set(id, entry);
    }
    const previous = entry.tail;
    let release!: () => void;
    // The chain only ever holds these never-rejecting promises, so one failed operation
    // cannot poison the ones queued behind it.
    entry.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    entry.pending++;
    try {
      await previous;
      return await fn();
    } finally {
      entry.pending--;
      if (entry.pending === 0) entries.delete(id);
      release();
    }
  }

  return {
    run,
    get activeIds() {
      return entries.size;
    },
  };
}
