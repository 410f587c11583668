// A running VM whose guest has not opened its agent port yet (booting, rebooting, no agent
// installed): the manager holds one connection open and writes nothing more than the one ping of
// connecting, so the agent is seen the moment it starts, however long the boot takes, and a VM
// without an agent costs nothing. Pings start once the agent answers; an agent that falls silent
// is dropped and the fresh connection waits, unpinged, for it again.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentManager } from "../../src/agent/agent-manager.ts";
import { agentSocketPath } from "../../src/agent/socket-path.ts";
import { createLogger } from "../../src/common/logger.ts";
import type { VmStatus } from "../../src/hypervisor/types.ts";
import { newVmId, waitFor } from "../support/daemon.ts";
import { startGuestDouble } from "./guest-double.ts";

const dir = mkdtempSync(join(tmpdir(), "lq-silent-guest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a silent guest keeps its one connection, unpinged, until its agent starts; a reboot starts that over", async () => {
  const id = newVmId();
  const guest = await startGuestDouble(agentSocketPath(dir, id));
  guest.mode = "silent";
  const manager = createAgentManager({
    socketDir: dir,
    hypervisor: { onEvent: () => () => {}, listVms: async () => [{ id, name: "booting", state: "running" } as VmStatus] },
    emit: () => {},
    log: createLogger({ level: "silent", format: "text" }),
    pingIntervalMs: 20,
    pingTimeoutMs: 20,
    // Quick first steps, so that a manager that cycled silent connections would show it at once.
    backoff: { initialMs: 20, maxMs: 3_600_000 },
  });
  const pings = (sequence: bigint) =>
    guest.received.filter((m) => m.payload.case === "ping" && (m.payload.value as { sequence: bigint }).sequence === sequence).length;
  try {
    await manager.start();
    await waitFor("the ping written on connecting", () => pings(1n) === 1);
    // Ten ping intervals and ten ping timeouts: the connection stays and nothing else is written.
    await Bun.sleep(400);
    expect({ accepted: guest.connections(), open: manager.stats().connections, keepalives: pings(0n), written: guest.received.length }).toEqual({
      accepted: 1,
      open: 1,
      keepalives: 0,
      written: 1,
    });

    // The agent starts: its AgentReady arrives on the connection held open.
    guest.mode = "normal";
    guest.broadcast({ case: "agentReady", value: { version: "1.0.0", hostname: "booted" } });
    await waitFor("the agent to be seen", () => manager.connected(id));
    expect(manager.facts(id)?.hostname).toBe("booted");
    await waitFor("keep-alive pings once it answers", () => pings(0n) >= 2);

    // It reboots: the silent agent is dropped, a new connection is made at once (the schedule
    // started over when the guest answered) and waits with its one ping.
    guest.mode = "silent";
    await waitFor("the silent agent to be dropped", () => !manager.connected(id));
    await waitFor("the reconnect", () => guest.connections() === 2 && pings(1n) === 2);
    const written = guest.received.length;
    await Bun.sleep(400);
    expect({ accepted: guest.connections(), open: manager.stats().connections, written: guest.received.length }).toEqual({ accepted: 2, open: 1, written });

    // The agent is back after the reboot.
    guest.mode = "normal";
    guest.broadcast({ case: "agentReady", value: { version: "1.0.0", hostname: "rebooted" } });
    await waitFor("the agent to be seen again", () => manager.connected(id));
    expect(manager.facts(id)?.hostname).toBe("rebooted");
  } finally {
    manager.close();
    await guest.close();
  }
});
