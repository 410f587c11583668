// The agent manager's keep-alive ping (agent-manager.ts): a guest that misses a ping but sends
// anything meanwhile (telemetry, other replies) is alive but slow, as on a crowded host, and
// keeps its connection and its requests in flight; a guest that falls silent is dropped, and what
// was in flight fails UNAVAILABLE.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgentManager } from "../../src/agent/agent-manager.ts";
import { agentSocketPath } from "../../src/agent/socket-path.ts";
import { createLogger } from "../../src/common/logger.ts";
import type { VmStatus } from "../../src/hypervisor/types.ts";
import { newVmId, waitFor } from "../support/daemon.ts";
import { type GuestDouble, startGuestDouble } from "./guest-double.ts";

const dir = mkdtempSync(join(tmpdir(), "lq-keepalive-"));
const id = newVmId();
let guest: GuestDouble;
const manager = createAgentManager({
  socketDir: dir,
  hypervisor: { onEvent: () => () => {}, listVms: async () => [{ id, name: "keepalive", state: "running" } as VmStatus] },
  emit: () => {},
  log: createLogger({ level: "error", format: "text" }),
  pingIntervalMs: 50,
  pingTimeoutMs: 150,
});

beforeAll(async () => {
  guest = await startGuestDouble(agentSocketPath(dir, id));
  await manager.start();
  await waitFor("the agent to answer", () => manager.connected(id));
});

afterAll(async () => {
  manager.close();
  await guest.close();
  rmSync(dir, { recursive: true, force: true });
});

const pings = () => guest.received.filter((m) => m.payload.case === "ping").length;

test("missed pings with telemetry still coming keep the connection; silence drops it", async () => {
  guest.mode = "silent";
  const telemetry = setInterval(() => guest.broadcast({ case: "telemetry", value: { hostname: "slow-guest" } }), 20);
  let settled = false;
  const inFlight = manager
    .execute(id, { command: "true", timeoutSeconds: 30 })
    .then(
      () => "answered",
      (err: Error) => err.message,
    )
    .finally(() => {
      settled = true;
    });
  try {
    // Three pings go unanswered (each timing out after 150 ms) while telemetry arrives: the same
    // connection stays, the command still waits for its reply.
    const from = pings();
    const accepted = guest.connections();
    await waitFor("three unanswered pings", () => pings() >= from + 4, 10_000);
    expect({ connected: manager.connected(id), accepted: guest.connections(), settled }).toEqual({ connected: true, accepted, settled: false });
  } finally {
    clearInterval(telemetry);
  }
  // Nothing from the guest any more: the next missed ping drops the connection.
  await waitFor("the silent guest to be dropped", () => !manager.connected(id), 10_000);
  expect(await inFlight).toContain("no answer to a ping");
});
