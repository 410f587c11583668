// The event Worker's loop sleeps without a tick while connected (an idle daemon wakes only for
// libvirt): what the API thread posts it (a stop, a test's crash) reaches it through the doorbell
// it rings (ffi/doorbell.ts). With a tick of ten minutes the crash must still land: without the
// doorbell it would wait for the tick, and the bounded wait below would fail.

import { expect, test } from "bun:test";
import { createEventSource } from "../../../src/hypervisor/libvirt/event-source.ts";

const TEN_MINUTES = 600_000;

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(10);
  }
}

test("a crash request reaches an event loop with no tick to wake it", async () => {
  const connects: number[] = [];
  const losses: string[] = [];
  const events = await createEventSource({
    uri: "test:///default",
    tickMs: TEN_MINUTES,
    onEvent: () => {},
    onConnected: (attempt) => connects.push(attempt),
    onDisconnected: (reason) => losses.push(reason),
  });
  try {
    // Let the loop settle into poll() (nothing of libvirt's is due for a long while).
    await Bun.sleep(300);
    events.crashWorkerForTest();
    await until("the crash is reported", () => losses.length === 1);
    expect(losses[0]).toContain("crash requested by a test");
    await until("the replacement connects", () => events.connected);
    expect(connects).toEqual([1, 2]);
  } finally {
    await events.close();
  }
}, 30_000);
