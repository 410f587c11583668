import { describe, expect, test } from "bun:test";
import { createEventBus, EventBusError, type NodeEventRecord } from "../../src/events/event-bus.ts";

const ev = (vmId: string, message = "x") => ({ type: "vm_state_changed" as const, vmId, message });

async function take(it: AsyncIterator<NodeEventRecord>, n: number): Promise<NodeEventRecord[]> {
  const out: NodeEventRecord[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe("event bus", () => {
  test("ids increase by one and carry a timestamp", () => {
    const bus = createEventBus({ now: () => new Date(1000) });
    expect(bus.publish(ev("a")).id).toBe(1);
    const second = bus.publish(ev("b"));
    expect(second.id).toBe(2);
    expect(second.timestamp).toEqual(new Date(1000));
    expect(bus.lastId()).toBe(2);
  });

  test("a subscriber gets new events only, in order", async () => {
    const bus = createEventBus();
    bus.publish(ev("old"));
    const it = bus.subscribe();
    const pending = take(it, 2);
    bus.publish(ev("a"));
    bus.publish(ev("b"));
    expect((await pending).map((e) => e.vmId)).toEqual(["a", "b"]);
    await it.return?.();
    expect(bus.subscriberCount()).toBe(0);
  });

  test("resuming after an id replays everything after it, then continues live", async () => {
    const bus = createEventBus({ capacity: 100 });
    for (let i = 0; i < 10; i++) bus.publish(ev(`vm${i}`));
    const it = bus.subscribe({ afterId: 7 });
    const first = await take(it, 3);
    expect(first.map((e) => e.id)).toEqual([8, 9, 10]);
    bus.publish(ev("live"));
    expect((await take(it, 1))[0]!.id).toBe(11);
    await it.return?.();
  });

  test("resuming from an id older than the buffer is a clear 'gone' error", async () => {
    const bus = createEventBus({ capacity: 5 });
    for (let i = 0; i < 20; i++) bus.publish(ev(`vm${i}`));
    let err: unknown;
    try {
      bus.subscribe({ afterId: 3 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventBusError);
    expect((err as EventBusError).kind).toBe("gone");
    expect((err as EventBusError).message).toContain("oldest buffered event 16");
  });

  test("resuming exactly at the oldest buffered event works", async () => {
    const bus = createEventBus({ capacity: 5 });
    for (let i = 0; i < 20; i++) bus.publish(ev(`vm${i}`));
    const it = bus.subscribe({ afterId: 15 });
    expect((await take(it, 5)).map((e) => e.id)).toEqual([16, 17, 18, 19, 20]);
    await it.return?.();
  });

  test("filters apply to replay and live events", async () => {
    const bus = createEventBus();
    bus.publish(ev("a"));
    bus.publish(ev("b"));
    const it = bus.subscribe({ afterId: 1, filter: (e) => e.vmId === "b" });
    bus.publish(ev("a"));
    bus.publish(ev("b"));
    expect((await take(it, 2)).map((e) => e.id)).toEqual([2, 4]);
    await it.return?.();
  });

  test("a slow subscriber is cut off with a resumable error, memory bounded", async () => {
    const bus = createEventBus({ subscriberQueueLimit: 10 });
    const it = bus.subscribe();
    const firstRead = it.next();
    bus.publish(ev("0"));
    expect((await firstRead).value!.id).toBe(1);
    for (let i = 0; i < 50; i++) bus.publish(ev(String(i)));
    expect(bus.subscriberCount()).toBe(0);
    const err = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as EventBusError).kind).toBe("too_slow");
    expect((err as EventBusError).message).toContain("after_sequence=1");
  });

  test("aborting the signal ends the iteration and unsubscribes", async () => {
    const bus = createEventBus();
    const ac = new AbortController();
    const it = bus.subscribe({ signal: ac.signal });
    const next = it.next();
    expect(bus.subscriberCount()).toBe(1);
    ac.abort();
    expect((await next).done).toBe(true);
    expect(bus.subscriberCount()).toBe(0);
  });

  test("close ends every subscription", async () => {
    const bus = createEventBus();
    const its = [bus.subscribe(), bus.subscribe()];
    const nexts = its.map((it) => it.next());
    bus.close();
    for (const n of nexts) expect((await n).done).toBe(true);
  });

  test("100 subscribers each receive every event", async () => {
    const bus = createEventBus({ subscriberQueueLimit: 100_000 });
    const its = Array.from({ length: 100 }, () => bus.subscribe());
    const all = its.map((it) => take(it, 1000));
    for (let i = 0; i < 1000; i++) bus.publish(ev(String(i)));
    for (const got of await Promise.all(all)) {
      expect(got.length).toBe(1000);
      expect(got[999]!.id).toBe(1000);
    }
  });
  test("resuming after an id this bus never issued is 'gone', not a silent wait", () => {
    const bus = createEventBus();
    bus.publish(ev("a"));
    expect(() => bus.subscribe({ afterId: 1 })).not.toThrow();
    let err: unknown;
    try {
      bus.subscribe({ afterId: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EventBusError);
    expect((err as EventBusError).kind).toBe("gone");
    expect((err as EventBusError).message).toContain("never issued");
  });

  test("onCutOff fires once, at the moment a subscriber is cut off, before it reads again", () => {
    const bus = createEventBus({ subscriberQueueLimit: 3 });
    const cutOffs: string[] = [];
    bus.subscribe({ onCutOff: (e) => cutOffs.push(e.kind) });
    for (let i = 0; i < 3; i++) bus.publish(ev(String(i)));
    expect(cutOffs).toEqual([]);
    bus.publish(ev("overflow"));
    expect(cutOffs).toEqual(["too_slow"]);
    bus.publish(ev("more"));
    expect(cutOffs).toEqual(["too_slow"]);
    expect(bus.subscriberCount()).toBe(0);
  });

  test("from the oldest: every buffered event first, in order, then live ones", async () => {
    const bus = createEventBus({ capacity: 100 });
    for (let i = 0; i < 3; i++) bus.publish(ev(`vm${i}`));
    const it = bus.subscribe({ fromOldest: true });
    expect((await take(it, 3)).map((e) => e.id)).toEqual([1, 2, 3]);
    bus.publish(ev("live"));
    expect((await take(it, 1)).map((e) => e.vmId)).toEqual(["live"]);
    await it.return?.();
  });

  test.each([
    ["a ring that has wrapped starts at the oldest event it still holds", 5, 12, {}, [8, 9, 10, 11, 12]],
    ["from the oldest wins over an id to resume after", 100, 4, { afterId: 3 }, [1, 2, 3, 4]],
    ["filters apply to the replay", 100, 6, { filter: (e: NodeEventRecord) => e.id % 2 === 0 }, [2, 4, 6]],
  ] as const)("from the oldest: %s", async (_name, capacity, published, extra, ids) => {
    const bus = createEventBus({ capacity });
    for (let i = 0; i < published; i++) bus.publish(ev(`vm${i}`));
    const it = bus.subscribe({ ...extra, fromOldest: true });
    expect((await take(it, ids.length)).map((e) => e.id)).toEqual([...ids]);
    await it.return?.();
  });

  test("from the oldest on a bus with no events: new events only, no error", async () => {
    const bus = createEventBus();
    const it = bus.subscribe({ fromOldest: true });
    expect(bus.subscriberCount()).toBe(1);
    bus.publish(ev("first"));
    expect((await take(it, 1)).map((e) => [e.id, e.vmId])).toEqual([[1, "first"]]);
    await it.return?.();
  });
});
