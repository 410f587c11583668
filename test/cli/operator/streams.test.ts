// The streaming commands as processes: metrics (one sample), events (--since, --follow across a
// daemon restart), and vm migrate (progress lines, a failed target, Ctrl-C cancelling).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { VMState } from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { startTestDaemon, type TestDaemon } from "../../support/daemon.ts";
import { addrOf, cli, spawnCli } from "./helpers.ts";

let d: TestDaemon;
let addr: string[];

beforeAll(async () => {
  d = await startTestDaemon();
  addr = addrOf(d.baseUrl);
});
afterAll(() => d.stop());

async function createVm(daemon: TestDaemon, name: string, start: boolean) {
  const vmId = crypto.randomUUID();
  await daemon.grpc.createVM({ vmId, start, spec: { name, cpu: { sockets: 1, coresPerSocket: 1, threadsPerCore: 1 }, memory: { sizeMib: 256n } } });
  return vmId;
}

async function waitUntil(check: () => boolean, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

describe("metrics", () => {
  test("one sample: host CPU and memory lines and a row per VM; --json is a MetricsSample", async () => {
    await createVm(d, "metrics-1", true);
    const r = await cli(["metrics", "--interval", "250ms", ...addr]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^host cpu\s+\d+\.\d%/m);
    expect(r.stdout).toMatch(/^host memory\s+\d+\.\d%.* used of /m);
    expect(r.stdout).toMatch(/^VM\s+STATE\s+VCPUS\s+CPU\s+MEMORY/m);
    expect(r.stdout).toMatch(/^metrics-1\s+running\s+1\s+\d+\.\d%/m);
    const json = JSON.parse((await cli(["metrics", "--interval", "250ms", "--json", ...addr])).stdout);
    expect(Number(json.node.memoryTotalBytes)).toBeGreaterThan(0);
    expect(json.vms.map((v: { name: string }) => v.name)).toContain("metrics-1");
  });
});

describe("events", () => {
  test("--since prints the buffered events after that id, one line each, and exits", async () => {
    const first = d.daemon.events.lastId();
    const id = await createVm(d, "events-1", true);
    const r = await cli(["events", "--since", String(first), ...addr]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^#${first + 1} \\S+Z vm_created events-1 vm events-1 created$`));
    expect(lines[1]).toMatch(new RegExp(`^#${first + 2} \\S+Z vm_state_changed events-1 \\(stopped -> running\\) `));
    const json = (await cli(["events", "--since", String(first), "--json", ...addr])).stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({ id: String(first + 1), type: "EVENT_TYPE_VM_CREATED", vmId: id });
  });

  test("--follow prints new events, survives a daemon restart, and Ctrl-C ends it with exit 0", async () => {
    const a = await startTestDaemon();
    const port = a.daemon.api.port;
    const follower = spawnCli(["events", "--follow", ...addrOf(a.baseUrl)]);
    let b: TestDaemon | undefined;
    try {
      await waitUntil(() => a.daemon.events.subscriberCount() === 1, "the follower to subscribe");
      await createVm(a, "before-restart", false);
      await follower.waitFor(/vm_created before-restart/);

      await a.stop();
      await follower.waitFor(/the daemon ended the event stream; reconnecting/, 5000, "stderr");
      b = await startTestDaemon((c) => (c.server.listenAddress = `127.0.0.1:${port}`));
      await waitUntil(() => b!.daemon.events.subscriberCount() === 1, "the follower to come back", 10_000);
      expect(follower.stderr()).toMatch(/reconnected; resuming after event #1/);
      await createVm(b, "after-restart", false);
      await follower.waitFor(/vm_created after-restart/);

      follower.proc.kill("SIGINT");
      expect(await follower.exit()).toBe(0);
      expect(follower.stdout().match(/vm_created/g)).toHaveLength(2);
    } finally {
      follower.proc.kill("SIGKILL");
      await b?.stop();
    }
  }, 20_000);
});

describe("vm migrate", () => {
  test("plain progress lines in a pipe, then the VM is gone from this node", async () => {
    const id = await createVm(d, "mig-1", true);
    const r = await cli(["vm", "migrate", "mig-1", "--to", "qemu+tcp://node-2.example/system", ...addr]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^migration:\s+0% starting/);
    expect(lines).toContainEqual(expect.stringMatching(/^migration:\s+60% transferring \d/));
    expect(lines.at(-2)).toMatch(/^migration: 100% completed/);
    expect(lines.at(-1)).toBe(`vm mig-1 (${id}) migrated to node-2.example`);
    expect((await d.grpc.listVMs({})).vms.map((v) => v.vmId)).not.toContain(id);
  });

  test("an unreachable target is the daemon's error, exit 1; a bad URI is bad usage, exit 2", async () => {
    await createVm(d, "mig-2", true);
    const r = await cli(["vm", "migrate", "mig-2", "--to", "qemu+tcp://nowhere.invalid/system", ...addr]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: unavailable: cannot reach migration target nowhere.invalid");
    const bad = await cli(["vm", "migrate", "mig-2", "--to", "ftp://x/", ...addr]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--to: scheme must be one of");
  });

  test("Ctrl-C cancels the migration: exit 130 and the VM stays here, running", async () => {
    const id = await createVm(d, "mig-3", true);
    const m = spawnCli(["vm", "migrate", "mig-3", "--to", "qemu+tcp://node-2.example/system", ...addr]);
    try {
      await m.waitFor(/migration:\s+0% starting/);
      m.proc.kill("SIGINT");
      expect(await m.exit()).toBe(130);
      expect(m.stderr()).toBe(`migration of vm mig-3 (${id}) cancelled; it stays on this node\n`);
      expect(m.stdout()).not.toContain("completed");
      let vm = await d.grpc.getVMStatus({ vmId: id });
      for (let i = 0; i < 50 && vm.state === VMState.VM_STATE_MIGRATING; i++) {
        await Bun.sleep(20);
        vm = await d.grpc.getVMStatus({ vmId: id });
      }
      expect(vm.state).toBe(VMState.VM_STATE_RUNNING);
    } finally {
      m.proc.kill("SIGKILL");
    }
  });
});
