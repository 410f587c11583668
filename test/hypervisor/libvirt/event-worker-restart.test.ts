// An event Worker that dies while libvirt cannot be reached: its replacements fail to connect
// and are retried with the shared backoff (never given up), the source stays disconnected, and
// it reconnects once libvirt is back. libvirt "going away" is a test-driver host file removed:
// a new connection to it fails until it is written again.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEventSource } from "../../../src/hypervisor/libvirt/event-source.ts";

const dir = mkdtempSync(join(tmpdir(), "lq14a-events-"));
const hostFile = join(dir, "host.xml");
const writeHost = () =>
  writeFileSync(hostFile, "<node><domain type='test'><name>lq14a-ev</name><memory>65536</memory><os><type>hvm</type></os></domain></node>");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(10);
  }
}

test("a dead event Worker is restarted with backoff until libvirt is back, then reconnects", async () => {
  writeHost();
  const connects: number[] = [];
  const losses: string[] = [];
  const events = await createEventSource({
    uri: `test://${hostFile}`,
    tickMs: 20,
    onEvent: () => {},
    onConnected: (attempt) => connects.push(attempt),
    onDisconnected: (reason) => losses.push(reason),
  });
  try {
    expect(connects).toEqual([1]);
    rmSync(hostFile);
    events.crashWorkerForTest();
    await until("the loss is reported", () => losses.length === 1);
    expect(losses[0]).toContain("the libvirt event Worker crashed (crash requested by a test");
    expect(events.connected).toBe(false);
    // Replacements fail to connect (a few attempts: at once, then 125-250 ms, 250-500 ms...).
    const failingSince = Date.now();
    await until("a second restart has had time to fail", () => Date.now() - failingSince > 600);
    expect(events.connected).toBe(false);
    expect(connects).toEqual([1]);
    writeHost();
    await until("the reconnection", () => events.connected);
    // A reconnection, numbered after the first connection, as the backend's resync expects.
    expect(connects).toEqual([1, 2]);
    expect(losses).toHaveLength(1);
  } finally {
    writeHost();
    await events.close();
  }
});
