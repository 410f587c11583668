// Every VM state change and operation becomes one numbered event. A bounded ring buffer keeps
// the recent ones so a client that reconnects with the last id it saw gets everything after
// it; each subscriber has a bounded queue so one slow reader cannot grow memory without bound.

import type { HypervisorEvent } from "../hypervisor/types.ts";

export interface NodeEventRecord extends HypervisorEvent {
  /** Increases by one per event for the daemon's lifetime. */
  id: number;
  timestamp: Date;
}

export type EventBusErrorKind = "gone" | "too_slow";

/** Raised into a subscriber's iteration; server/ maps it to a gRPC code. */
export class EventBusError extends Error {
  override readonly name = "EventBusError";
  constructor(
    readonly kind: EventBusErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface SubscribeOptions {
  /** Replay buffered events with a greater id first; 0 or undefined: new events only. */
  afterId?: number;
  /** Replay every buffered event first, from the oldest (wins over afterId). */
  fromOldest?: boolean;
  filter?: (event: NodeEventRecord) => boolean;
  signal?: AbortSignal;
  /**
   * Called once, synchronously, when the subscriber is cut off for falling behind. The error
   * also ends the iteration, but only when the reader asks for its next event; a reader stuck
   * on a full transport never asks, so the server uses this to end the call itself.
   */
  onCutOff?: (err: EventBusError) => void;
}

export interface EventBus {
  publish(event: HypervisorEvent): NodeEventRecord;
  subscribe(opts?: SubscribeOptions): AsyncIterableIterator<NodeEventRecord>;
  lastId(): number;
  subscriberCount(): number;
  /** Ends every subscription (their iterations finish normally). */
  close(): void;
}

export interface EventBusOptions {
  /** Events kept for resuming clients. */
  capacity?: number;
  /** Events a subscriber may fall behind before it is cut off. */
  subscriberQueueLimit?: number;
  now?: () => Date;
}

interface Subscriber {
  queue: NodeEventRecord[];
  head: number;
  filter?: (event: NodeEventRecord) => boolean;
  wake?: () => void;
  failure?: EventBusError;
  onCutOff?: (err: EventBusError) => void;
  ended: boolean;
}

export function createEventBus(opts: EventBusOptions = {}): EventBus {
  const capacity = opts.capacity ?? 10_000;
  const queueLimit = opts.subscriberQueueLimit ?? 10_000;
  const now = opts.now ?? (() => new Date());
  const ring: (NodeEventRecord | undefined)[] = new Array(capacity);
  const subscribers = new Set<Subscriber>();
  let nextId = 1;

  const oldestBufferedId = () => Math.max(1, nextId - capacity);

  function deliver(sub: Subscriber, record: NodeEventRecord): void {
    if (sub.ended || (sub.filter && !sub.filter(record))) return;
    if (sub.queue.length - sub.head >= queueLimit) {
      sub.failure = new EventBusError(
        "too_slow",
        `subscriber fell ${queueLimit} events behind and was cut off; reconnect with after_sequence=${sub.queue[sub.head]!.id - 1} to resume`,
      );
      sub.ended = true;
      sub.queue = [];
      sub.head = 0;
      subscribers.delete(sub);
      sub.onCutOff?.(sub.failure);
    } else {
      sub.queue.push(record);
    }
    const wake = sub.wake;
    sub.wake = undefined;
    wake?.();
  }

  function publish(event: HypervisorEvent): NodeEventRecord {
    const record: NodeEventRecord = { ...event, id: nextId++, timestamp: now() };
    ring[record.id % capacity] = record;
    for (const sub of subscribers) deliver(sub, record);
    return record;
  }

  function replay(sub: Subscriber, afterId: number): void {
    // An id this bus never issued comes from an earlier daemon (ids restart at 1): resuming
    // "after" it would silently skip every event up to it.
    if (afterId >= nextId) {
      throw new EventBusError(
        "gone",
        `event ${afterId} was never issued by this daemon (its newest is ${nextId - 1}); it has restarted since: ` +
          `re-read the VM list and subscribe with after_sequence=0 (new events) or from_oldest`,
      );
    }
    if (afterId + 1 < oldestBufferedId()) {
      throw new EventBusError(
        "gone",
        `event ${afterId + 1} is older than the oldest buffered event ${oldestBufferedId()}; ` +
          `re-read the VM list and subscribe with after_sequence=0 (new events) or from_oldest`,
      );
    }
    for (let id = afterId + 1; id < nextId; id++) {
      const record = ring[id % capacity]!;
      if (!sub.filter || sub.filter(record)) sub.queue.push(record);
    }
  }

  // Registration and replay happen when subscribe() is called, in one synchronous step, so no
  // event falls between them and none is missed before the first read.
  function subscribe(sopts: SubscribeOptions = {}): AsyncIterableIterator<NodeEventRecord> {
    const sub: Subscriber = { queue: [], head: 0, filter: sopts.filter, onCutOff: sopts.onCutOff, ended: false };
    if (sopts.fromOldest) replay(sub, oldestBufferedId() - 1);
    else if (sopts.afterId) replay(sub, sopts.afterId);
    subscribers.add(sub);
    const onAbort = () => {
      sub.ended = true;
      subscribers.delete(sub);
      sub.wake?.();
    };
    sopts.signal?.addEventListener("abort", onAbort, { once: true });
    return drain(sub, sopts.signal, () => {
      subscribers.delete(sub);
      sopts.signal?.removeEventListener("abort", onAbort);
    });
  }

  async function* drain(sub: Subscriber, signal: AbortSignal | undefined, release: () => void) {
    try {
      while (true) {
        if (sub.head < sub.queue.length) {
          const record = sub.queue[sub.head]!;
          sub.queue[sub.head++] = undefined as never;
          if (sub.head > 1024 && sub.head * 2 > sub.queue.length) {
            sub.queue = sub.queue.slice(sub.head);
            sub.head = 0;
          }
          yield record;
          continue;
        }
        if (sub.failure) throw sub.failure;
        if (sub.ended || signal?.aborted) return;
        await new Promise<void>((resolve) => (sub.wake = resolve));
      }
    } finally {
      release();
    }
  }

  return {
    publish,
    subscribe,
    lastId: () => nextId - 1,
    subscriberCount: () => subscribers.size,
    close() {
      for (const sub of subscribers) {
        sub.ended = true;
        sub.wake?.();
      }
      subscribers.clear();
    },
  };
}
