// Reconnects of a running VM whose agent socket cannot be reached: quick at first, then far apart
// (a VM without the channel costs nothing at idle), and started over at once when the VM starts
// again or its socket file appears. (A socket that accepts but stays silent: silent-guest.test.ts.)

import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentManager } from "../../src/agent/agent-manager.ts";
import { AGENT_RETRY_BACKOFF, agentRetryDelayMs } from "../../src/agent/reconnect.ts";
import { agentSocketPath, AGENT_CHANNEL } from "../../src/agent/socket-path.ts";
import { createLogger } from "../../src/common/logger.ts";
import type { HypervisorEvent, HypervisorEventListener, VmStatus } from "../../src/hypervisor/types.ts";

const VM = "0b7c1f9e-0000-4000-8000-0000000000aa";
/** So long that only a reset can bring the next attempt within the test's wait. */
const NEVER_AGAIN = { initialMs: 3_600_000, maxMs: 3_600_000 };

describe("the retry schedule", () => {
  test("starts quick (a guest opens its port seconds after a start), then backs off to minutes", () => {
    const low = (n: number) => agentRetryDelayMs(n, () => 0);
    const high = (n: number) => agentRetryDelayMs(n, () => 1);
    expect(high(0)).toBeLessThanOrEqual(500);
    expect(high(1)).toBeLessThanOrEqual(1000);
    expect(high(2)).toBeLessThanOrEqual(2000);
    for (let n = 1; n < 30; n++) expect(low(n)).toBeGreaterThanOrEqual(low(n - 1));
    expect(high(40)).toBe(AGENT_RETRY_BACKOFF.maxMs);
    expect(low(40)).toBeGreaterThanOrEqual(AGENT_RETRY_BACKOFF.maxMs / 2);
    expect(AGENT_RETRY_BACKOFF.maxMs).toBeGreaterThanOrEqual(60_000);
  });
});

async function waitFor(what: string, cond: () => boolean, limitMs = 15_000): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "lq14f-agent-retry-"));
  const socketDir = join(dir, "sockets");
  const channelRoot = join(dir, "channels");
  mkdirSync(socketDir);
  mkdirSync(channelRoot);
  const listeners: HypervisorEventListener[] = [];
  const manager = createAgentManager({
    socketDir,
    channelRoots: [channelRoot],
    hypervisor: {
      onEvent: (l) => {
        listeners.push(l);
        return () => undefined;
      },
      listVms: async () => [{ id: VM, name: "no-agent" } as VmStatus],
    },
    emit: () => undefined,
    log: createLogger({ level: "silent", format: "text" }),
    backoff: NEVER_AGAIN,
    connectTimeoutMs: 1000,
  });
  const servers: Server[] = [];
  let accepted = 0;
  const listen = async (path: string) => {
    const server = createServer((s) => {
      accepted++;
      s.on("error", () => undefined);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
  };
  const emit = (e: HypervisorEvent) => {
    for (const l of listeners) l(e);
  };
  return {
    manager,
    socketDir,
    channelRoot,
    listen,
    emit,
    accepted: () => accepted,
    close() {
      manager.close();
      for (const s of servers) s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The on-demand attempts of a start (3, about 1.5 s) are over and the long backoff is armed. */
async function pastStartAttempts(): Promise<void> {
  await Bun.sleep(2500);
}

describe("a running VM without an agent", () => {
  test("its socket file appearing reconnects at once, whatever the backoff", async () => {
    const t = setup();
    try {
      await t.manager.start();
      await pastStartAttempts();
      expect(t.accepted()).toBe(0);
      await t.listen(agentSocketPath(t.socketDir, VM));
      await waitFor("a connection after the socket appeared", () => t.accepted() > 0);
      expect(t.manager.stats().connections).toBe(1);
    } finally {
      t.close();
    }
  });

  test("a start event reconnects at once, whatever the backoff", async () => {
    const t = setup();
    try {
      await t.manager.start();
      await pastStartAttempts();
      // A channel folder libvirt picked itself: not watched, only the event can bring the retry.
      const folder = join(t.channelRoot, `domain-1-${VM}`);
      mkdirSync(folder);
      await t.listen(join(folder, AGENT_CHANNEL));
      await Bun.sleep(300);
      expect(t.accepted()).toBe(0);
      t.emit({ type: "vm_state_changed", vmId: VM, state: "running", message: "started" });
      await waitFor("a connection after the start event", () => t.accepted() > 0);
    } finally {
      t.close();
    }
  });
});
