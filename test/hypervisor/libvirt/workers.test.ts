// The Worker protocol: the call pool and the event Worker against the test driver.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createCallPool, type CallPool } from "../../../src/hypervisor/libvirt/call-pool.ts";
import { createEventSource, type EventSource } from "../../../src/hypervisor/libvirt/event-source.ts";
import type { RawDomainEvent } from "../../../src/hypervisor/libvirt/protocol.ts";
import { HypervisorError } from "../../../src/hypervisor/errors.ts";

const URI = "test:///default";
const UUID = "5a1b0c2d-0000-4000-8000-0000000be001";
const XML =
  `<domain type='qemu'><name>worker-test-vm</name><uuid>${UUID}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu>` +
  `<os><type arch='x86_64'>hvm</type></os></domain>`;

let events: EventSource;
let pool: CallPool;
const seen: RawDomainEvent[] = [];

beforeAll(async () => {
  events = await createEventSource({ uri: URI, tickMs: 50, onEvent: (e) => seen.push(e), onConnected: () => {}, onDisconnected: () => {} });
  pool = await createCallPool({ uri: URI, size: 3 });
});
afterAll(async () => {
  await pool.close();
  await events.close();
});

async function waitFor<T>(fn: () => T | undefined, ms = 2000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error("timed out waiting");
    await Bun.sleep(10);
  }
}

describe("call pool", () => {
  test("ops answer with plain data", async () => {
    const facts = await pool.call("hostFacts");
    expect(facts.driverType).toBe("TEST");
    expect(facts.capabilitiesXml).toContain("<capabilities>");
    expect(facts.domainCapabilitiesXml).toBeUndefined();
  });

  test("errors cross the Worker boundary with kind, code and message", async () => {
    const err = await pool.call("state", "00000000-0000-4000-8000-000000000000").catch((e) => e);
    expect(err).toBeInstanceOf(HypervisorError);
    expect(err.kind).toBe("not_found");
    expect(err.libvirtCode).toBe(42);
    expect(err.message).toContain("Domain not found");
  });

  test("concurrent calls are spread over the Workers and all answer", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => pool.call("ping")));
    expect(results.every((r) => r === true)).toBe(true);
    expect(pool.queued).toBe(0);
  });

  test("a connection to a missing daemon fails at start as unavailable", async () => {
    const err = await createCallPool({ uri: "qemu+unix:///system?socket=/nonexistent/libvirt-sock", size: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(HypervisorError);
    expect(err.kind).toBe("unavailable");
    expect(err.message).toContain("/nonexistent/libvirt-sock");
  });
});

describe("event worker", () => {
  test("lifecycle events arrive for define, start, suspend, destroy, undefine", async () => {
    const uuid = await pool.call("define", XML);
    expect(uuid).toBe(UUID);
    await pool.call("start", UUID);
    await pool.call("suspend", UUID);
    await pool.call("destroy", UUID);
    await pool.call("undefine", UUID);
    const mine = () => seen.filter((e) => e.uuid === UUID && e.kind === "lifecycle");
    // DEFINED 0, STARTED 2, SUSPENDED 3, STOPPED 5, UNDEFINED 1
    await waitFor(() => (mine().length >= 5 ? true : undefined));
    expect(mine().map((e) => (e.kind === "lifecycle" ? e.event : -1))).toEqual([0, 2, 3, 5, 1]);
    expect(mine()[0]?.name).toBe("worker-test-vm");
    expect(events.connected).toBe(true);
  });

  test("the event loop blocks its own thread, never the API thread", async () => {
    // The loop sits in virEventRunDefaultImpl (a blocking C call) most of the time. Were it on this
    // thread, no timer here would fire while it waits: 200 turns of the event loop completing
    // proves it is not (no clock is read, so a busy machine cannot fail this).
    expect(events.connected).toBe(true);
    let turns = 0;
    await new Promise<void>((resolve) => {
      const turn = () => (++turns === 200 ? resolve() : setTimeout(turn, 0));
      setTimeout(turn, 0);
    });
    expect(turns).toBe(200);
    expect(events.connected).toBe(true);
  });
});
