// The real daemon (bun src/main.ts) against the in-test control plane: it joins, keeps serving
// its own API while the control plane is gone, and is READY again once it is back, without a
// restart. Backoff is the production one (1 s doubling), so this file takes a few seconds.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { NodeStatus_Phase } from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import { startFakeControlPlane, type FakeControlPlane } from "./fake-control-plane.ts";
import { waitFor } from "./helpers.ts";
import { freePort } from "../support/free-port.ts";

const root = join(import.meta.dir, "..", "..");
let cp: FakeControlPlane;
let dir: string;
let proc: ReturnType<typeof Bun.spawn> | undefined;
let output = "";

async function collect(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
}

beforeAll(async () => {
  cp = await startFakeControlPlane();
  dir = await mkdtemp(join(tmpdir(), "lqx-e2e-"));
});

afterAll(async () => {
  if (proc !== undefined && proc.exitCode === null) {
    proc.kill("SIGTERM");
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5000).then(() => false)]);
    if (!exited) proc.kill("SIGKILL");
  }
  await cp.close();
  await rm(dir, { recursive: true, force: true });
});

// A heartbeat every second; READY means one arrived within the last 3 s.
const staleMs = 3000;
const theNode = () => [...cp.nodes.values()][0];
const phase = () => (theNode() === undefined ? NodeStatus_Phase.UNKNOWN : cp.phaseOf(theNode()!.hostname, staleMs));

test("the daemon joins, survives the control plane going away, and is READY again without a restart", async () => {
  const listen = `127.0.0.1:${await freePort()}`;
  const child = Bun.spawn([process.execPath, "src/main.ts", "--dev", "--listen", listen, "--register", "--control-plane", cp.url], {
    cwd: root,
    env: {
      ...process.env,
      LIMIQUANTIX_CONTROL_PLANE_HEARTBEAT_INTERVAL_SECS: "1",
      LIMIQUANTIX_NODE_STATE_DIR: dir,
      LIMIQUANTIX_SERVER_METRICS_ENABLED: "false",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  proc = child;
  void collect(child.stdout);
  void collect(child.stderr);
  const pid = child.pid;

  await waitFor("the API to listen", () => /API listening on [^\s]+:\d+/.test(output) || child.exitCode !== null, 8000);
  if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}:\n${output}`);
  const port = Number(/API listening on [^\s]+:(\d+)/.exec(output)?.[1]);
  expect(port).toBeGreaterThan(0);
  const api = createClient(NodeDaemonService, createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }));

  // Joins: registered, heartbeating, READY; the daemon reports the id the control plane gave it.
  await waitFor("READY", () => phase() === NodeStatus_Phase.READY, 5000);
  const id = theNode()!.id;
  let health = await api.healthCheck({});
  expect(health).toMatchObject({ registered: true, nodeId: id });
  expect((await api.getNodeInfo({})).nodeId).toBe(id);
  expect((await Bun.file(join(dir, "node-id")).text()).trim()).toBe(id);

  // The control plane goes away: the daemon keeps serving and says it is not registered.
  await cp.down();
  const downAt = performance.now();
  for (;;) {
    health = await api.healthCheck({});
    if (!health.registered || performance.now() - downAt > 4000) break;
    await Bun.sleep(100);
  }
  expect(health.registered).toBe(false);
  expect(health.nodeId).toBe(id);
  await Bun.sleep(Math.max(0, 2500 - (performance.now() - downAt)));

  // It comes back: the same daemon process, under the same id, is READY again. Whether it
  // registers again first depends on how many heartbeats failed (3 or more) in the outage;
  // the registrar tests pin that rule down, here either way back is right.
  const backAt = performance.now();
  await cp.up();
  await waitFor("READY again", () => phase() === NodeStatus_Phase.READY && theNode()!.lastHeartbeatAt! > backAt, 8000);
  expect(theNode()!.id).toBe(id);
  expect(cp.nodes.size).toBe(1);
  expect(child.pid).toBe(pid);
  expect(child.exitCode).toBeNull();
  health = await api.healthCheck({});
  expect(health).toMatchObject({ registered: true, nodeId: id });
  // Each change logged once, not every retry.
  expect(output.match(/control plane unreachable/g)?.length).toBe(1);
  expect(output.match(/registered again as node|heartbeats resumed/g)?.length).toBe(1);
}, 20_000);
