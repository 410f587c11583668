// The streaming commands as processes: metrics (one sample), events (--since, --since-start,
// --follow across a daemon restart), and vm migrate (progress lines, a failed target, Ctrl-C
// cancelling).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PowerState, VMTransition } from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
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
  await daemon.grpc.createVM({ vmId, name, start, spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n } });
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
  test("one sample: host CPU and memory lines and a row per VM; --json is a NodeMetrics", async () => {
    await createVm(d, "metrics-1", true);
    const r = await cli(["metrics", "--interval", "250ms", ...addr]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // Measured by the second sample, or shown as not measured: never a made-up 0.
    expect(r.stdout).toMatch(/^host cpu\s+(\d+\.\d% \[|– \(measuring\))/m);
    expect(r.stdout).toMatch(/^host memory\s+\d+\.\d%.* used of /m);
    expect(r.stdout).toMatch(/^VM\s+STATE\s+VCPUS\s+CPU\s+MEMORY/m);
    expect(r.stdout).toMatch(/^metrics-1\s+running\s+1\s+\d+\.\d%/m);
    const json = JSON.parse((await cli(["metrics", "--interval", "250ms", "--json", ...addr])).stdout);
    expect(Number(json.memoryTotalBytes)).toBeGreaterThan(0);
    expect(json.cpuMeasured ? typeof json.cpuUsagePercent : "absent").toBe(json.cpuMeasured ? "number" : "absent");
    if (!json.cpuMeasured) expect(json).not.toHaveProperty("cpuUsagePercent");
    expect(json.vms.map((v: { name: string }) => v.name)).toContain("metrics-1");
  });
});

describe("events", () => {
  test("--since prints the buffered events after that sequence number, one line each, and exits", async () => {
    const first = d.daemon.events.lastId();
    const id = await createVm(d, "events-1", true);
    const r = await cli(["events", "--since", String(first), ...addr]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^#${first + 1} \\S+Z vm_created events-1 `));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^#${first + 2} \\S+Z vm_started events-1 \\(stopped -> running\\) `)));
    const json = (await cli(["events", "--since", String(first), "--json", ...addr])).stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({ id: String(first + 1), sequence: String(first + 1), type: "EVENT_TYPE_VM_CREATED", vmId: id, vmName: "events-1" });
  });

  test("--since-start and --since 0 print the whole buffer from the oldest event", async () => {
    const a = await startTestDaemon();
    try {
      await createVm(a, "oldest-1", false);
      await createVm(a, "oldest-2", false);
      const all = await cli(["events", "--since-start", ...addrOf(a.baseUrl)]);
      expect(all.code).toBe(0);
      const sequences = all.stdout
        .trimEnd()
        .split("\n")
        .map((l) => Number(/^#(\d+) /.exec(l)?.[1]));
      expect(sequences[0]).toBe(1);
      expect(sequences).toEqual(sequences.map((_, i) => i + 1));
      expect(sequences.at(-1)).toBe(a.daemon.events.lastId());
      expect(all.stdout).toMatch(/vm_created oldest-1 .*\n(.*\n)*.*vm_created oldest-2 /);
      const zero = await cli(["events", "--since", "0", ...addrOf(a.baseUrl)]);
      expect(zero.stdout).toBe(all.stdout);
      const both = await cli(["events", "--since", "3", "--since-start", ...addrOf(a.baseUrl)]);
      expect(both.code).toBe(2);
    } finally {
      await a.stop();
    }
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
      // The new daemon numbers its events from 1 again: the follower reads all it has.
      expect(follower.stderr()).toMatch(/no longer all buffered on the daemon .*; continuing from the oldest it still has/);
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
    expect(lines[0]).toMatch(/^migration:\s+0% preparing/);
    expect(lines).toContainEqual(expect.stringMatching(/^migration:\s+60% transferring \d/));
    expect(lines.at(-2)).toMatch(/^migration: 100% complete /);
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
      await m.waitFor(/migration:\s+0% preparing/);
      m.proc.kill("SIGINT");
      expect(await m.exit()).toBe(130);
      expect(m.stderr()).toBe(`migration of vm mig-3 (${id}) cancelled; it stays on this node\n`);
      expect(m.stdout()).not.toContain("complete");
      // The daemon winds the job down after the call ended: poll until it has.
      let vm = await d.grpc.getVMStatus({ vmId: id });
      const deadline = Date.now() + 5000;
      while (vm.transition === VMTransition.VM_TRANSITION_MIGRATING && Date.now() < deadline) {
        await Bun.sleep(20);
        vm = await d.grpc.getVMStatus({ vmId: id });
      }
      expect(vm).toMatchObject({ state: PowerState.RUNNING, transition: VMTransition.VM_TRANSITION_NONE });
    } finally {
      m.proc.kill("SIGKILL");
    }
  });
});
