// Every RPC of NodeDaemonService, driven through a real gRPC client (Connect's gRPC transport
// over HTTP/2) against a real daemon on an ephemeral port, mock backend. Each test makes its own
// VMs (unique names and labels) and, when it looks at events, its own subscription: any one of
// them can run alone.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  DiskBus,
  DiskFormat,
  EventType,
  MigrationPhase,
  NodeDaemonService,
  type NodeEvent,
  PowerState,
  type StreamEventsRequestSchema,
  VMTransition,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { NODE_API_RPCS, newVmId, startTestDaemon, type TestDaemon, waitFor } from "../support/daemon.ts";

const MANAGEMENT_IP = "192.0.2.10";
let t: TestDaemon;
let n = 0;

beforeAll(async () => {
  t = await startTestDaemon((c) => {
    // The address the control plane dials: consoles listening everywhere are announced there.
    c.controlPlane.managementIp = MANAGEMENT_IP;
  });
});

afterAll(async () => {
  await t.stop();
});

/** A CreateVM request of the control plane's shape: name and labels at the top, a flat spec. */
function vm(spec: Record<string, unknown> = {}, labels: Record<string, string> = {}) {
  return {
    name: `vm-${++n}`,
    spec: {
      cpuSockets: 1,
      cpuCores: 2,
      cpuThreadsPerCore: 1,
      memoryMib: 1024n,
      disks: [{ id: "root", sizeGib: 10n, bootable: true }],
      nics: [{ id: "eth0", bridge: "br0" }],
      console: { vncEnabled: true, vncPassword: "secret" },
      ...spec,
    },
    labels,
  };
}

async function created(spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): Promise<string> {
  const vmId = newVmId();
  await t.grpc.createVM({ vmId, ...vm(spec, labels) });
  return vmId;
}

async function running(spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): Promise<string> {
  const vmId = await created(spec, labels);
  await t.grpc.startVM({ vmId });
  return vmId;
}

async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string } | "OK"> {
  try {
    await p;
    return "OK";
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
}

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  const f = await failure(p);
  return f === "OK" ? undefined : f.code;
}

/**
 * A StreamEvents subscription that is live (counted by the daemon) when this resolves; stop()
 * returns once the daemon has released it, so the next test counts from the same place.
 */
async function subscribe(req: MessageInitShape<typeof StreamEventsRequestSchema> = {}) {
  const before = t.daemon.events.subscriberCount();
  const ac = new AbortController();
  const events: NodeEvent[] = [];
  const done = (async () => {
    try {
      for await (const e of t.grpc.streamEvents(req, { signal: ac.signal })) events.push(e);
    } catch (err) {
      if (ConnectError.from(err).code !== Code.Canceled) throw err;
    }
  })();
  await waitFor("the StreamEvents subscription", () => t.daemon.events.subscriberCount() > before);
  return {
    events,
    async until(what: string, cond: (e: NodeEvent) => boolean) {
      await waitFor(what, () => events.some(cond));
    },
    async stop() {
      ac.abort();
      await done;
      await waitFor("the subscription's release", () => t.daemon.events.subscriberCount() <= before);
    },
  };
}

describe("node", () => {
  test("HealthCheck and GetNodeInfo", async () => {
    const health = await t.grpc.healthCheck({});
    expect(health).toMatchObject({ healthy: true, hypervisor: "mock", message: "" });
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(health.uptimeSeconds).toBeGreaterThan(0n);

    const info = await t.grpc.getNodeInfo({});
    expect(info.hostname.length).toBeGreaterThan(0);
    expect(info.cpu!.totalThreads).toBeGreaterThan(0);
    expect(info.memory!.totalBytes).toBeGreaterThan(0n);
    expect(info.network.length).toBeGreaterThan(0);
    expect(info.os!.kernel.length).toBeGreaterThan(0);
    expect(info.hypervisor!.backend).toBe("mock");
    expect(info.capabilities).toMatchObject({ name: "mock", supportsSnapshots: true, supportsHotplug: true, supportsLiveMigration: true });
  });
});

describe("CreateVM", () => {
  test("is idempotent, refuses a changed spec, names a bad field", async () => {
    const id = newVmId();
    const request = { vmId: id, ...vm({}, { tier: "web" }) };
    const first = await t.grpc.createVM(request);
    expect(first).toMatchObject({ vmId: id, created: true });
    expect(first.vm!.state).toBe(PowerState.STOPPED);
    expect(first.vm!.spec!.disks[0]!.resolvedPath).toContain(id);
    expect(first.vm!.spec!.nics[0]!.macAddress).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(first.vm!.spec!.console!.vncPassword).toBe(""); // secrets stay out of status
    expect(first.vm!.labels).toEqual({ tier: "web" });

    const again = await t.grpc.createVM(request);
    expect(again).toMatchObject({ vmId: id, created: false });
    const changed = await failure(t.grpc.createVM({ ...request, labels: { tier: "db" } }));
    expect(changed).toMatchObject({ code: Code.AlreadyExists });
    expect((changed as { message: string }).message).toContain("already exists");

    const bad = await failure(t.grpc.createVM({ vmId: newVmId(), ...vm({ memoryMib: 0n }) }));
    expect(bad).toMatchObject({ code: Code.InvalidArgument });
    expect((bad as { message: string }).message).toStartWith("spec.memory_mib");
    expect(await codeOf(t.grpc.createVM({ vmId: "not-a-uuid", ...vm() }))).toBe(Code.InvalidArgument);
  });

  test("an empty vm_id gets a generated UUID", async () => {
    const res = await t.grpc.createVM(vm());
    expect(res.vmId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect((await t.grpc.getVMStatus({ vmId: res.vmId })).vmId).toBe(res.vmId);
  });

  test("what the control plane leaves to the node: VNC console, a NIC on the default network, an empty CD-ROM", async () => {
    const id = await created({ console: undefined, nics: [], cdroms: [] });
    const spec = (await t.grpc.getVMStatus({ vmId: id })).spec!;
    expect(spec.console).toMatchObject({ vncEnabled: true, spiceEnabled: false });
    expect(spec.nics.map((x) => [x.id, x.network, x.bridge])).toEqual([["nic0", t.config.hypervisor.defaultNetwork, ""]]);
    expect(spec.cdroms.map((c) => [c.id, c.isoPath])).toEqual([["cdrom-0", ""]]);
  });

  test("the control plane's network ids join the node's default network; other names are kept", async () => {
    const id = await created({
      nics: [
        { id: "a", network: "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20" },
        { id: "b", network: "net-prod" },
        { id: "c", network: "lan" },
      ],
    });
    const nics = (await t.grpc.getVMStatus({ vmId: id })).spec!.nics;
    const dflt = t.config.hypervisor.defaultNetwork;
    expect(nics.map((x) => [x.id, x.network])).toEqual([
      ["a", dflt],
      ["b", dflt],
      ["c", "lan"],
    ]);
  });
});

describe("power operations", () => {
  test("start, pause, resume, reboot; wrong states are FAILED_PRECONDITION naming the VM", async () => {
    const id = await created();
    const started = await t.grpc.startVM({ vmId: id });
    expect(started.vm!.state).toBe(PowerState.RUNNING);
    expect(started.vm!.startedAt).toBeDefined();
    expect((await t.grpc.pauseVM({ vmId: id })).vm!.state).toBe(PowerState.PAUSED);
    const reboot = await failure(t.grpc.rebootVM({ vmId: id }));
    expect(reboot).toMatchObject({ code: Code.FailedPrecondition });
    expect((reboot as { message: string }).message).toContain(id);
    expect((await t.grpc.resumeVM({ vmId: id })).vm!.state).toBe(PowerState.RUNNING);
    expect((await t.grpc.rebootVM({ vmId: id })).vm!.state).toBe(PowerState.RUNNING);

    const stopped = await created();
    expect(await codeOf(t.grpc.pauseVM({ vmId: stopped }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(t.grpc.resumeVM({ vmId: stopped }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(t.grpc.rebootVM({ vmId: stopped }))).toBe(Code.FailedPrecondition);
  });

  test("asking for the state a VM is in answers OK with its status and changes nothing", async () => {
    const id = await running();
    const startedAt = (await t.grpc.getVMStatus({ vmId: id })).startedAt;
    const watch = await subscribe({ vmIds: [id] });

    const again = await t.grpc.startVM({ vmId: id });
    expect([again.vm!.state, again.vm!.startedAt]).toEqual([PowerState.RUNNING, startedAt]);
    expect((await t.grpc.resumeVM({ vmId: id })).vm!.state).toBe(PowerState.RUNNING);
    await t.grpc.pauseVM({ vmId: id });
    expect((await t.grpc.pauseVM({ vmId: id })).vm!.state).toBe(PowerState.PAUSED);
    await t.grpc.forceStopVM({ vmId: id });
    expect((await t.grpc.stopVM({ vmId: id, timeoutSeconds: 30 })).vm!.state).toBe(PowerState.STOPPED);
    expect((await t.grpc.forceStopVM({ vmId: id })).vm!.state).toBe(PowerState.STOPPED);

    // Only the two real changes were announced (a marker event closes the window).
    t.daemon.events.publish({ type: "node", vmId: id, message: "marker" });
    await watch.until("the marker", (e) => e.message === "marker");
    await watch.stop();
    expect(watch.events.map((e) => EventType[e.type])).toEqual(["VM_PAUSED", "VM_STOPPED", "NODE"]);
  });

  test("graceful stop, delete refused while running, force stop, delete with disks", async () => {
    const id = await running();
    expect((await t.grpc.stopVM({ vmId: id, timeoutSeconds: 5 })).vm!.state).toBe(PowerState.STOPPED);
    await t.grpc.startVM({ vmId: id });
    expect(await codeOf(t.grpc.deleteVM({ vmId: id }))).toBe(Code.FailedPrecondition);
    expect((await t.grpc.forceStopVM({ vmId: id })).vm!.state).toBe(PowerState.STOPPED);
    const deleted = await t.grpc.deleteVM({ vmId: id, deleteDisks: true });
    expect(deleted.vmId).toBe(id);
    expect(deleted.deletedDisks.length).toBe(1);
    expect(await codeOf(t.grpc.getVMStatus({ vmId: id }))).toBe(Code.NotFound);
  });

  test("an unknown VM is NOT_FOUND with the text the control plane matches, on every VM call", async () => {
    const id = newVmId();
    const text = `VM not found: ${id} is not defined on this node`;
    const calls: [string, Promise<unknown>][] = [
      ["GetVMStatus", t.grpc.getVMStatus({ vmId: id })],
      ["StartVM", t.grpc.startVM({ vmId: id })],
      ["StopVM", t.grpc.stopVM({ vmId: id, timeoutSeconds: 30 })],
      ["ForceStopVM", t.grpc.forceStopVM({ vmId: id })],
      ["RebootVM", t.grpc.rebootVM({ vmId: id })],
      ["PauseVM", t.grpc.pauseVM({ vmId: id })],
      ["ResumeVM", t.grpc.resumeVM({ vmId: id })],
      ["DeleteVM", t.grpc.deleteVM({ vmId: id })],
      ["GetConsole", t.grpc.getConsole({ vmId: id })],
      ["ListSnapshots", t.grpc.listSnapshots({ vmId: id })],
      ["ChangeMedia", t.grpc.changeMedia({ vmId: id, device: "sdb", isoPath: "" })],
    ];
    for (const [name, call] of calls) expect({ name, answer: await failure(call) }).toEqual({ name, answer: { code: Code.NotFound, message: text } });
  });
});

describe("state", () => {
  test("GetVMStatus, ListVMs with label and state filters and pages", async () => {
    const run = `run-${newVmId().slice(0, 8)}`;
    const web = await running({}, { run, tier: "web" });
    const db = await created({}, { run, tier: "db" });

    const status = await t.grpc.getVMStatus({ vmId: web });
    expect(status).toMatchObject({ vmId: web, state: PowerState.RUNNING, transition: VMTransition.VM_TRANSITION_NONE });
    expect(status.resourceUsage!.memoryTotalBytes).toBe(1024n << 20n);

    const byLabel = await t.grpc.listVMs({ labelSelector: { run, tier: "web" } });
    expect(byLabel.vms.map((v) => v.vmId)).toEqual([web]);
    const runningOnes = await t.grpc.listVMs({ labelSelector: { run }, states: [PowerState.RUNNING] });
    expect(runningOnes.vms.map((v) => v.vmId)).toEqual([web]);
    const page1 = await t.grpc.listVMs({ labelSelector: { run }, pageSize: 1 });
    expect([page1.vms.length, page1.totalCount]).toEqual([1, 2]);
    const page2 = await t.grpc.listVMs({ labelSelector: { run }, pageSize: 1, pageToken: page1.nextPageToken });
    expect([page2.vms.length, page2.nextPageToken]).toEqual([1, ""]);
    expect(new Set([page1.vms[0]!.vmId, page2.vms[0]!.vmId])).toEqual(new Set([web, db]));
    // The contract's empty request lists every VM.
    const all = await t.grpc.listVMs({});
    expect(all.vms.map((v) => v.vmId)).toEqual(expect.arrayContaining([web, db]));
  });

  test("GetConsole: a wildcard listen is announced at the management address, one address as it is", async () => {
    const wildcard = await running({ console: { vncEnabled: true, vncPassword: "secret", listen: "0.0.0.0" } });
    const c = await t.grpc.getConsole({ vmId: wildcard });
    expect(c).toMatchObject({ type: "vnc", host: MANAGEMENT_IP, password: "secret" });
    expect(c.port).toBeGreaterThanOrEqual(5900);

    const loopback = await running({ console: { spiceEnabled: true, listen: "127.0.0.1" } });
    expect(await t.grpc.getConsole({ vmId: loopback })).toMatchObject({ type: "spice", host: "127.0.0.1" });

    const none = await running({ console: {} });
    expect(await codeOf(t.grpc.getConsole({ vmId: none }))).toBe(Code.FailedPrecondition);
    expect(await codeOf(t.grpc.getConsole({ vmId: await created() }))).toBe(Code.FailedPrecondition);
  });
});

describe("snapshots", () => {
  test("parents, current, revert and delete by snapshot_id", async () => {
    const id = await running();
    const s1 = await t.grpc.createSnapshot({ vmId: id, name: "base" });
    const s2 = await t.grpc.createSnapshot({ vmId: id, name: "after-update", description: "patched", quiesce: true });
    expect(s1).toMatchObject({ snapshotId: "base", name: "base", parentId: "", vmState: PowerState.RUNNING, hasMemory: true });
    expect(s2).toMatchObject({ snapshotId: "after-update", description: "patched", parentId: "base", current: true });
    const list = await t.grpc.listSnapshots({ vmId: id });
    expect(list.snapshots.map((s) => [s.snapshotId, s.parentId, s.current])).toEqual([
      ["base", "", false],
      ["after-update", "base", true],
    ]);
    const reverted = await t.grpc.revertSnapshot({ vmId: id, snapshotId: "base" });
    expect(reverted.vm!.currentSnapshot).toBe("base");
    // A snapshot with memory brings the VM back running, as libvirt does.
    expect(reverted.vm!.state).toBe(PowerState.RUNNING);
    expect(await t.grpc.deleteSnapshot({ vmId: id, snapshotId: "after-update" })).toMatchObject({ vmId: id, snapshotId: "after-update" });
    expect((await t.grpc.listSnapshots({ vmId: id })).snapshots.map((s) => s.snapshotId)).toEqual(["base"]);
    const missing = await failure(t.grpc.deleteSnapshot({ vmId: id, snapshotId: "nope" }));
    expect(missing).toMatchObject({ code: Code.NotFound });
    expect((missing as { message: string }).message).toContain("not found");
    expect(await codeOf(t.grpc.createSnapshot({ vmId: id, name: "../etc" }))).toBe(Code.InvalidArgument);
  });
});

describe("hot-plug", () => {
  test("disks and NICs show up in the status; duplicates and unknown ids are refused", async () => {
    const id = await created();
    const withDisk = await t.grpc.attachDisk({ vmId: id, disk: { id: "data", sizeGib: 1n, format: DiskFormat.RAW } });
    expect(withDisk.vm!.spec!.disks.map((d) => [d.id, d.format])).toEqual([
      ["root", DiskFormat.QCOW2],
      ["data", DiskFormat.RAW],
    ]);
    const dup = await failure(t.grpc.attachDisk({ vmId: id, disk: { id: "data", path: `${t.config.hypervisor.storagePath}/x.img` } }));
    expect(dup).toMatchObject({ code: Code.AlreadyExists });
    expect((dup as { message: string }).message).toContain("already exists");
    expect((await t.grpc.detachDisk({ vmId: id, diskId: "data" })).vm!.spec!.disks.map((d) => d.id)).toEqual(["root"]);

    const withNic = await t.grpc.attachNIC({ vmId: id, nic: { id: "eth1", network: "default" } });
    expect(withNic.vm!.spec!.nics.map((x) => x.id)).toEqual(["eth0", "eth1"]);
    expect((await t.grpc.detachNIC({ vmId: id, nicId: "eth1" })).vm!.spec!.nics.map((x) => x.id)).toEqual(["eth0"]);
    expect(await codeOf(t.grpc.detachNIC({ vmId: id, nicId: "eth9" }))).toBe(Code.NotFound);
  });

  test("the control plane's AttachDisk (SATA, no path) on a running VM goes on virtio", async () => {
    const id = await running();
    const res = await t.grpc.attachDisk({ vmId: id, disk: { id: "disk-1764892800123456789", sizeGib: 10n, bus: DiskBus.SATA } });
    const disk = res.vm!.spec!.disks.find((d) => d.id === "disk-1764892800123456789")!;
    expect([disk.bus, disk.target, disk.sizeGib]).toEqual([DiskBus.VIRTIO, "vdb", 10n]);
    // A generated id follows the VM's disks.
    const unnamed = await t.grpc.attachDisk({ vmId: id, disk: { sizeGib: 1n } });
    expect(unnamed.vm!.spec!.disks.map((d) => d.id)).toEqual(["root", "disk-1764892800123456789", "disk2"]);
  });
});

describe("streams", () => {
  test("StreamMetrics sends node and VM samples; a silly interval is refused", async () => {
    const id = await running();
    const ac = new AbortController();
    const samples = [];
    for await (const s of t.grpc.streamMetrics({ intervalMs: 250 }, { signal: ac.signal })) {
      samples.push(s);
      if (samples.length === 2) break;
    }
    ac.abort();
    expect(samples[0]!.memoryTotalBytes).toBeGreaterThan(0n);
    expect(samples[0]!.timestamp).toBeDefined();
    // A CPU rate needs two samples: the second one is a measurement.
    expect(samples[1]!.cpuMeasured).toBe(true);
    expect(samples[1]!.vms.some((v) => v.vmId === id && v.state === PowerState.RUNNING)).toBe(true);
    const bad = t.grpc.streamMetrics({ intervalMs: 10 });
    expect(
      await codeOf(
        (async () => {
          for await (const _ of bad) {
            /* none */
          }
        })(),
      ),
    ).toBe(Code.InvalidArgument);
  });

  test("MigrateVM reports progress; an unreachable target fails and leaves the VM running", async () => {
    const id = await running();
    const failed = t.grpc.migrateVM({ vmId: id, targetNodeUri: "qemu+tcp://node9.invalid/system", live: true });
    expect(
      await codeOf(
        (async () => {
          for await (const _ of failed) {
            /* progress */
          }
        })(),
      ),
    ).toBe(Code.Unavailable);
    expect((await t.grpc.getVMStatus({ vmId: id })).state).toBe(PowerState.RUNNING);
    expect(await codeOf(t.grpc.migrateVM({ vmId: id, targetNodeUri: "http://x" })[Symbol.asyncIterator]().next())).toBe(Code.InvalidArgument);

    const mover = await running();
    const phases: MigrationPhase[] = [];
    let lastPercent = -1;
    for await (const p of t.grpc.migrateVM({ vmId: mover, targetNodeUri: "qemu+tcp://node2.example/system", live: true })) {
      phases.push(p.phase);
      expect(p.percentComplete).toBeGreaterThanOrEqual(lastPercent);
      lastPercent = p.percentComplete;
    }
    expect(phases[0]).toBe(MigrationPhase.PREPARING);
    expect(phases).toContain(MigrationPhase.TRANSFERRING);
    expect(phases.at(-1)).toBe(MigrationPhase.COMPLETE);
    expect(lastPercent).toBe(100);
    expect(await codeOf(t.grpc.getVMStatus({ vmId: mover }))).toBe(Code.NotFound);
  });

  test("StreamEvents: one VM's life in the contract's event types, in sequence; resumes after a sequence", async () => {
    const id = newVmId();
    const watch = await subscribe({ vmIds: [id] });
    await t.grpc.createVM({ vmId: id, ...vm({ cdroms: [{ id: "cd0" }] }) });
    await t.grpc.startVM({ vmId: id });
    await t.grpc.pauseVM({ vmId: id });
    await t.grpc.resumeVM({ vmId: id });
    await t.grpc.rebootVM({ vmId: id });
    await t.grpc.createSnapshot({ vmId: id, name: "s1" });
    await t.grpc.attachDisk({ vmId: id, disk: { id: "data", sizeGib: 1n } });
    await t.grpc.attachNIC({ vmId: id, nic: { id: "eth1", network: "lan" } });
    await t.grpc.detachNIC({ vmId: id, nicId: "eth1" });
    await t.grpc.changeMedia({ vmId: id, cdromId: "cd0", isoPath: "" });
    await t.grpc.stopVM({ vmId: id, timeoutSeconds: 5 });
    await t.grpc.deleteVM({ vmId: id, deleteDisks: true });
    await watch.until("VM_DELETED", (e) => e.type === EventType.VM_DELETED);
    await watch.stop();

    expect(watch.events.map((e) => EventType[e.type])).toEqual([
      "VM_CREATED",
      "VM_STARTED",
      "VM_PAUSED",
      "VM_RESUMED",
      "VM_REBOOTED",
      "SNAPSHOT_CREATED",
      "DISK_ATTACHED",
      "NIC_ATTACHED",
      "NIC_DETACHED",
      "MEDIA_CHANGED",
      "VM_STATE_CHANGED", // shutting down: RUNNING with a transition
      "VM_STOPPED",
      "VM_DELETED",
    ]);
    const sequences = watch.events.map((e) => e.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => (a < b ? -1 : 1)));
    expect(watch.events.map((e) => e.id)).toEqual(sequences.map(String));
    expect(watch.events.every((e) => e.vmId === id && e.timestamp !== undefined)).toBe(true);
    const started = watch.events[1]!;
    expect([started.previousState, started.state]).toEqual([PowerState.STOPPED, PowerState.RUNNING]);
    expect(watch.events[10]!.transition).toBe(VMTransition.VM_TRANSITION_SHUTTING_DOWN);

    // Resuming after the third event replays the rest, in order.
    const after = watch.events[2]!.sequence;
    const replay = await subscribe({ vmIds: [id], afterSequence: after });
    await replay.until("the replay's last event", (e) => e.type === EventType.VM_DELETED);
    await replay.stop();
    expect(replay.events.map((e) => e.sequence)).toEqual(sequences.slice(3));
  });

  test("StreamEvents filters by type", async () => {
    const watch = await subscribe({ types: [EventType.VM_STARTED] });
    const a = await running();
    const b = await running();
    await watch.until("both starts", (e) => e.vmId === b);
    await watch.stop();
    expect(watch.events.map((e) => [EventType[e.type], e.vmId])).toEqual([
      ["VM_STARTED", a],
      ["VM_STARTED", b],
    ]);
  });

  test("StreamEvents with from_oldest begins with the first event of the daemon's run", async () => {
    await created(); // at least one event exists, whichever test ran before
    const oldest = await subscribe({ fromOldest: true });
    await oldest.until("the first event", () => true);
    await oldest.stop();
    expect([oldest.events[0]!.sequence, oldest.events[0]!.id]).toEqual([1n, "1"]);
  });
});

describe("the service", () => {
  test("every VM and storage RPC is served (none answers UNIMPLEMENTED to a request it cannot serve)", async () => {
    const vmId = newVmId();
    // Requests that fail fast: an unknown VM, a missing field, a refused value.
    const requests: Record<string, object> = {
      streamEvents: { types: [999] },
      streamMetrics: { intervalMs: 1 },
      migrateVM: { vmId, targetNodeUri: "qemu+tcp://node9.invalid/system" },
      initStoragePool: { poolId: "p" },
    };
    const client = t.grpc as unknown as Record<string, (req: object) => Promise<unknown> | AsyncIterable<unknown>>;
    const answers: Record<string, string> = {};
    for (const name of NODE_API_RPCS) {
      const m = NodeDaemonService.methods.find((x) => x.name === name);
      expect({ name, inService: m !== undefined }).toEqual({ name, inService: true });
      const call = client[m!.localName]!(requests[m!.localName] ?? { vmId });
      const run =
        Symbol.asyncIterator in call
          ? (async () => {
              for await (const _ of call as AsyncIterable<unknown>) break;
            })()
          : (call as Promise<unknown>);
      const code = await codeOf(run);
      answers[name] = code === undefined ? "OK" : Code[code];
    }
    expect(Object.entries(answers).filter(([, code]) => code === "Unimplemented")).toEqual([]);
  });
});
