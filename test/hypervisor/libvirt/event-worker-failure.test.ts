// libvirt's event loop is one per process. An event Worker that fails to connect is terminated
// by the API thread; if it left its timer registered, the next event Worker's loop would fire
// it into the dead Worker's freed callback and crash the whole process (it did: a segfault
// whenever the daemon's tests ran without libvirtd). This file runs that sequence.

import { expect, test } from "bun:test";
import { createEventSource } from "../../../src/hypervisor/libvirt/event-source.ts";
import { HypervisorError } from "../../../src/hypervisor/errors.ts";
import { createCallPool } from "../../../src/hypervisor/libvirt/call-pool.ts";
import type { RawDomainEvent } from "../../../src/hypervisor/libvirt/protocol.ts";

const quiet = { onConnected: () => {}, onDisconnected: () => {} };

test("after event Workers that failed to connect, another one runs its loop and delivers events", async () => {
  for (let i = 0; i < 3; i++) {
    const err = await createEventSource({ uri: "qemu+unix:///system?socket=/nonexistent/libvirt-sock", tickMs: 10, onEvent: () => {}, ...quiet }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(HypervisorError);
    expect((err as HypervisorError).kind).toBe("unavailable");
  }
  const seen: RawDomainEvent[] = [];
  const events = await createEventSource({ uri: "test:///default", tickMs: 10, onEvent: (e) => seen.push(e), ...quiet });
  const pool = await createCallPool({ uri: "test:///default", size: 1 });
  try {
    const uuid = "5a1b0c2d-0000-4000-8000-0000000be002";
    await pool.call(
      "define",
      `<domain type='qemu'><name>after-failure</name><uuid>${uuid}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`,
    );
    await pool.call("undefine", uuid);
    // Dozens of loop iterations at 10 ms: any stale timer would have fired by now.
    const until = Date.now() + 2000;
    while (seen.filter((e) => e.uuid === uuid).length < 2 && Date.now() < until) await Bun.sleep(20);
    await Bun.sleep(300);
    expect(seen.filter((e) => e.uuid === uuid).map((e) => e.kind)).toEqual(["lifecycle", "lifecycle"]);
  } finally {
    await pool.close();
    await events.close();
  }
});
