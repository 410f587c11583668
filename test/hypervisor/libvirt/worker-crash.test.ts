// Crash injection on the libvirt backend (test:///default): a Worker made to throw, as a bug
// would, through crashWorkerForTest, so the production crash handling is what runs. An event
// Worker that dies is a disconnect: health says so, the node event that reports disconnects is
// emitted, a new Worker is started, and health and domain events come back. A call Worker that
// dies is replaced while the others serve.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import { crashWorkerForTest, createLibvirtHypervisor } from "../../../src/hypervisor/libvirt/libvirt-hypervisor.ts";
import type { Hypervisor, HypervisorEvent } from "../../../src/hypervisor/types.ts";

const URI = "test:///default";
const run = crypto.randomUUID().slice(0, 8);
let hv: Hypervisor;
let conn: ffi.Connection;
const seen: HypervisorEvent[] = [];
/** healthy() as it was when the disconnect was reported. */
let healthAtDisconnect: { ok: boolean; message?: string } | undefined;

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(10);
  }
}

/** Defines and undefines a domain behind the backend's back; resolves when its events arrived. */
async function eventsFlow(tag: string): Promise<void> {
  const uuid = crypto.randomUUID();
  const xml = `<domain type='test'><name>lq14a-${run}-${tag}</name><uuid>${uuid}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>`;
  ffi.freeDomain(conn, ffi.defineDomain(conn, xml));
  await until(`the vm_created event of ${tag}`, () => seen.some((e) => e.type === "vm_created" && e.vmId === uuid));
  ffi.withDomain(conn, uuid, (d) => ffi.undefineDomain(conn, d, 0));
  await until(`the vm_deleted event of ${tag}`, () => seen.some((e) => e.type === "vm_deleted" && e.vmId === uuid));
}

const nodeEvents = () => seen.filter((e) => e.type === "node");

beforeAll(async () => {
  hv = await createLibvirtHypervisor({
    uri: URI,
    storagePath: `/tmp/lq14a-crash-${run}`,
    consoleListen: "127.0.0.1",
    poolName: `lq14a-${run}`,
    poolSize: 2,
    eventTickMs: 50,
  });
  hv.onEvent((e) => {
    seen.push(e);
    if (e.type === "node" && e.details?.libvirt === "disconnected") healthAtDisconnect = hv.healthy();
  });
  conn = ffi.openConnection(ffi.loadLibvirt(), URI);
});
afterAll(async () => {
  ffi.closeConnection(conn);
  await hv.close();
});

describe("an event Worker that dies after it started", () => {
  test("is seen: unhealthy with the reason, the disconnect node event, a restart, then healthy with events flowing", async () => {
    await eventsFlow("before");
    expect(hv.healthy()).toEqual({ ok: true });
    const before = nodeEvents().length;
    crashWorkerForTest(hv, "event");
    await until("the reconnection node event", () => nodeEvents().some((e, i) => i >= before && e.details?.libvirt === "connected"));
    const [down, up] = nodeEvents().slice(before);
    console.info(`event Worker crash: "${down?.message}" then "${up?.message}"; health meanwhile: ${JSON.stringify(healthAtDisconnect)}`);
    expect(healthAtDisconnect?.ok).toBe(false);
    expect(healthAtDisconnect?.message).toContain("the libvirt event Worker crashed");
    expect(down?.details).toEqual({ libvirt: "disconnected" });
    expect(down?.message).toContain("the libvirt event Worker crashed (crash requested by a test (crashWorkerForTest)); restarting it");
    expect(up?.details).toEqual({ libvirt: "connected" });
    expect(hv.healthy()).toEqual({ ok: true });
    await eventsFlow("after");
  });

  test("again and again: each crash is a disconnect and a recovery", async () => {
    for (let i = 0; i < 3; i++) {
      const before = nodeEvents().length;
      crashWorkerForTest(hv, "event");
      await until(`recovery ${i + 1}`, () => nodeEvents().slice(before).length === 2 && hv.healthy().ok);
      expect(
        nodeEvents()
          .slice(before)
          .map((e) => e.details?.libvirt),
      ).toEqual(["disconnected", "connected"]);
    }
    await eventsFlow("after-three");
  });
});

describe("a call Worker that dies", () => {
  test("is replaced; calls go on, health stays good, nothing is reported as a disconnect", async () => {
    const before = nodeEvents().length;
    crashWorkerForTest(hv, { lane: "short", index: 0 });
    // The other Worker (and then the replacement) answers; a call the crash took down is UNAVAILABLE.
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        hv.listVms({}).then(
          () => "ok",
          (e: Error & { kind?: string }) => e.kind,
        ),
      ),
    );
    console.info(
      `20 ListVMs around a call Worker crash: ${results.filter((r) => r === "ok").length} ok, others ${results.filter((r) => r !== "ok").join(",")}`,
    );
    expect(results.every((r) => r === "ok" || r === "unavailable")).toBe(true);
    // One of two Workers down is no outage.
    expect(hv.healthy()).toEqual({ ok: true });
    for (let i = 0; i < 5; i++) await hv.listVms({});
    expect(nodeEvents().length).toBe(before);
    await eventsFlow("after-call-crash");
  });
});
