// Every RPC of NodeDaemonService, driven through a real gRPC client (Connect's gRPC transport
// over HTTP/2) against a real daemon on an ephemeral port, mock backend.

import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  ConsoleType,
  DiskFormat,
  EventType,
  MigrationPhase,
  NodeDaemonService,
  type NodeEvent,
  VMSpecSchema,
  VMState,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { newVmId, startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { type EventRecorder, recordEvents } from "../support/record-events.ts";

let t: TestDaemon;
const called = new Set<string>();
const events: NodeEvent[] = [];
let recorder: EventRecorder | undefined;

function spec(name: string, labels: Record<string, string> = {}) {
  return create(VMSpecSchema, {
    name,
    cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1 },
    memory: { sizeMib: 1024n },
    disks: [{ id: "root", source: { case: "newImage", value: { sizeBytes: 10n << 30n, format: DiskFormat.QCOW2 } }, bootOrder: 1 }],
    nics: [{ id: "eth0", attachment: { case: "bridge", value: "br0" } }],
    console: { type: ConsoleType.VNC, password: "secret" },
    labels,
  });
}

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

beforeAll(async () => {
  t = await startTestDaemon();
  // Subscribe before anything happens, to see every event of the run.
  recorder = recordEvents(t.grpc, events);
  called.add("StreamEvents");
});

afterAll(async () => {
  await recorder?.stop();
  await t.stop();
});

describe("NodeDaemonService over gRPC (HTTP/2)", () => {
  const id = newVmId();

  test("HealthCheck and GetNodeInfo", async () => {
    const health = await t.grpc.healthCheck({});
    called.add("HealthCheck");
    expect(health.healthy).toBe(true);
    expect(health.hypervisor).toBe("mock");
    expect(health.version).toMatch(/^\d+\.\d+\.\d+/);

    const info = await t.grpc.getNodeInfo({});
    called.add("GetNodeInfo");
    expect(info.hostname.length).toBeGreaterThan(0);
    expect(info.cpu!.totalThreads).toBeGreaterThan(0);
    expect(info.memory!.totalBytes).toBeGreaterThan(0n);
    expect(info.os!.kernel.length).toBeGreaterThan(0);
    expect(info.hypervisor!.backend).toBe("mock");
    expect(info.capabilities!.snapshots).toBe(true);
  });

  test("CreateVM is idempotent, rejects a changed spec and names a bad field", async () => {
    const first = await t.grpc.createVM({ vmId: id, spec: spec("web-1", { tier: "web" }) });
    called.add("CreateVM");
    expect(first.created).toBe(true);
    expect(first.vm!.state).toBe(VMState.VM_STATE_STOPPED);
    expect(first.vm!.spec!.disks[0]!.resolvedPath).toContain(id);
    expect(first.vm!.spec!.nics[0]!.mac).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(first.vm!.spec!.console!.password).toBe(""); // secrets stay out of status

    const again = await t.grpc.createVM({ vmId: id, spec: spec("web-1", { tier: "web" }) });
    expect(again.created).toBe(false);
    expect(await codeOf(t.grpc.createVM({ vmId: id, spec: spec("web-1", { tier: "db" }) }))).toBe(Code.AlreadyExists);

    const bad = spec("bad");
    bad.memory!.sizeMib = 0n;
    const err = await t.grpc.createVM({ vmId: newVmId(), spec: bad }).catch((e) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain("spec.memory");
    expect(await codeOf(t.grpc.createVM({ vmId: "not-a-uuid", spec: spec("x") }))).toBe(Code.InvalidArgument);
  });

  test("lifecycle: start, pause, resume, reboot, with wrong-state errors", async () => {
    expect((await t.grpc.startVM({ vmId: id })).vm!.state).toBe(VMState.VM_STATE_RUNNING);
    called.add("StartVM");
    const err = await t.grpc.startVM({ vmId: id }).catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.FailedPrecondition);
    expect((err as ConnectError).rawMessage).toContain(id);

    expect((await t.grpc.pauseVM({ vmId: id })).vm!.state).toBe(VMState.VM_STATE_PAUSED);
    called.add("PauseVM");
    expect((await t.grpc.resumeVM({ vmId: id })).vm!.state).toBe(VMState.VM_STATE_RUNNING);
    called.add("ResumeVM");
    expect((await t.grpc.rebootVM({ vmId: id })).vm!.state).toBe(VMState.VM_STATE_RUNNING);
    called.add("RebootVM");
  });

  test("GetVMStatus, ListVMs with filters and pages, GetConsole", async () => {
    const status = await t.grpc.getVMStatus({ vmId: id });
    called.add("GetVMStatus");
    expect(status.name).toBe("web-1");
    expect(await codeOf(t.grpc.getVMStatus({ vmId: newVmId() }))).toBe(Code.NotFound);

    const other = newVmId();
    await t.grpc.createVM({ vmId: other, spec: spec("db-1", { tier: "db" }) });
    const web = await t.grpc.listVMs({ labelSelector: { tier: "web" } });
    called.add("ListVMs");
    expect(web.vms.map((v) => v.vmId)).toEqual([id]);
    const running = await t.grpc.listVMs({ states: [VMState.VM_STATE_RUNNING] });
    expect(running.vms.map((v) => v.vmId)).toEqual([id]);
    const page1 = await t.grpc.listVMs({ pageSize: 1 });
    expect(page1.vms.length).toBe(1);
    expect(page1.totalCount).toBe(2);
    const page2 = await t.grpc.listVMs({ pageSize: 1, pageToken: page1.nextPageToken });
    expect(page2.vms.length).toBe(1);
    expect(page2.nextPageToken).toBe("");
    expect(new Set([page1.vms[0]!.vmId, page2.vms[0]!.vmId])).toEqual(new Set([id, other]));

    const console = await t.grpc.getConsole({ vmId: id });
    called.add("GetConsole");
    expect(console.type).toBe(ConsoleType.VNC);
    expect(console.port).toBeGreaterThanOrEqual(5900);
    expect(console.password).toBe("secret");
    expect(await codeOf(t.grpc.getConsole({ vmId: other }))).toBe(Code.FailedPrecondition);
    await t.grpc.deleteVM({ vmId: other });
  });

  test("snapshots with parents, revert and delete", async () => {
    const s1 = await t.grpc.createSnapshot({ vmId: id, name: "base", includeMemory: true });
    called.add("CreateSnapshot");
    const s2 = await t.grpc.createSnapshot({ vmId: id, name: "after-update", description: "patched" });
    expect(s1.parent).toBe("");
    expect(s2.parent).toBe("base");
    const list = await t.grpc.listSnapshots({ vmId: id });
    called.add("ListSnapshots");
    expect(list.snapshots.map((s) => [s.name, s.parent, s.current])).toEqual([
      ["base", "", false],
      ["after-update", "base", true],
    ]);
    const reverted = await t.grpc.revertSnapshot({ vmId: id, name: "base" });
    called.add("RevertSnapshot");
    expect(reverted.vm!.currentSnapshot).toBe("base");
    // A snapshot with memory brings the VM back running, as libvirt does.
    expect(reverted.vm!.state).toBe(VMState.VM_STATE_RUNNING);
    await t.grpc.deleteSnapshot({ vmId: id, name: "after-update" });
    called.add("DeleteSnapshot");
    expect((await t.grpc.listSnapshots({ vmId: id })).snapshots.map((s) => s.name)).toEqual(["base"]);
    expect(await codeOf(t.grpc.deleteSnapshot({ vmId: id, name: "nope" }))).toBe(Code.NotFound);
    expect(await codeOf(t.grpc.createSnapshot({ vmId: id, name: "../etc" }))).toBe(Code.InvalidArgument);
  });

  test("hot-plug disks and NICs shows up in the status", async () => {
    const withDisk = await t.grpc.attachDisk({
      vmId: id,
      disk: { id: "data", source: { case: "newImage", value: { sizeBytes: 1n << 30n, format: DiskFormat.RAW } } },
    });
    called.add("AttachDisk");
    expect(withDisk.vm!.spec!.disks.map((d) => d.id)).toEqual(["root", "data"]);
    expect(await codeOf(t.grpc.attachDisk({ vmId: id, disk: { id: "data", source: { case: "path", value: `${t.config.hypervisor.storagePath}/x.img` } } }))).toBe(
      Code.AlreadyExists,
    );
    const withoutDisk = await t.grpc.detachDisk({ vmId: id, diskId: "data" });
    called.add("DetachDisk");
    expect(withoutDisk.vm!.spec!.disks.map((d) => d.id)).toEqual(["root"]);

    const withNic = await t.grpc.attachNIC({ vmId: id, nic: { id: "eth1", attachment: { case: "network", value: "default" } } });
    called.add("AttachNIC");
    expect(withNic.vm!.spec!.nics.map((n) => n.id)).toEqual(["eth0", "eth1"]);
    const withoutNic = await t.grpc.detachNIC({ vmId: id, nicId: "eth1" });
    called.add("DetachNIC");
    expect(withoutNic.vm!.spec!.nics.map((n) => n.id)).toEqual(["eth0"]);
    expect(await codeOf(t.grpc.detachNIC({ vmId: id, nicId: "eth9" }))).toBe(Code.NotFound);
  });

  test("StreamMetrics sends node and VM samples at the interval; a silly interval is refused", async () => {
    const ac = new AbortController();
    const samples = [];
    const started = performance.now();
    for await (const s of t.grpc.streamMetrics({ intervalMs: 250 }, { signal: ac.signal })) {
      samples.push(s);
      if (samples.length === 2) break;
    }
    called.add("StreamMetrics");
    ac.abort();
    expect(performance.now() - started).toBeLessThan(3000);
    expect(samples[0]!.node!.memoryTotalBytes).toBeGreaterThan(0n);
    expect(samples[1]!.vms.some((v) => v.vmId === id)).toBe(true);
    const bad = t.grpc.streamMetrics({ intervalMs: 10 });
    expect(await codeOf((async () => { for await (const _ of bad) { /* none */ } })())).toBe(Code.InvalidArgument);
  });

  test("MigrateVM reports progress; an unreachable target fails and leaves the VM running", async () => {
    const failed = t.grpc.migrateVM({ vmId: id, targetUri: "qemu+tcp://node9.invalid/system", live: true });
    expect(await codeOf((async () => { for await (const _ of failed) { /* progress */ } })())).toBe(Code.Unavailable);
    expect((await t.grpc.getVMStatus({ vmId: id })).state).toBe(VMState.VM_STATE_RUNNING);
    expect(await codeOf(t.grpc.migrateVM({ vmId: id, targetUri: "http://x" })[Symbol.asyncIterator]().next())).toBe(Code.InvalidArgument);

    const mover = newVmId();
    await t.grpc.createVM({ vmId: mover, spec: spec("mover"), start: true });
    const phases: MigrationPhase[] = [];
    let lastPercent = -1;
    for await (const p of t.grpc.migrateVM({ vmId: mover, targetUri: "qemu+tcp://node2.example/system", live: true })) {
      phases.push(p.phase);
      expect(p.percent).toBeGreaterThanOrEqual(lastPercent);
      lastPercent = p.percent;
    }
    called.add("MigrateVM");
    expect(phases[0]).toBe(MigrationPhase.STARTING);
    expect(phases).toContain(MigrationPhase.TRANSFERRING);
    expect(phases.at(-1)).toBe(MigrationPhase.COMPLETED);
    expect(await codeOf(t.grpc.getVMStatus({ vmId: mover }))).toBe(Code.NotFound);
  });

  test("stop, force stop and delete", async () => {
    expect((await t.grpc.stopVM({ vmId: id, timeoutSeconds: 5 })).vm!.state).toBe(VMState.VM_STATE_STOPPED);
    called.add("StopVM");
    await t.grpc.startVM({ vmId: id });
    expect(await codeOf(t.grpc.deleteVM({ vmId: id }))).toBe(Code.FailedPrecondition);
    expect((await t.grpc.forceStopVM({ vmId: id })).vm!.state).toBe(VMState.VM_STATE_STOPPED);
    called.add("ForceStopVM");
    const deleted = await t.grpc.deleteVM({ vmId: id, deleteDisks: true });
    called.add("DeleteVM");
    expect(deleted.deletedDisks.length).toBe(1);
    expect(await codeOf(t.grpc.getVMStatus({ vmId: id }))).toBe(Code.NotFound);
  });

  test("StreamEvents saw every transition with increasing ids, and resumes after an id", async () => {
    await Bun.sleep(50);
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      EventType.VM_CREATED,
      EventType.VM_STATE_CHANGED,
      EventType.SNAPSHOT_CREATED,
      EventType.SNAPSHOT_REVERTED,
      EventType.DISK_ATTACHED,
      EventType.NIC_DETACHED,
      EventType.MIGRATION_COMPLETED,
      EventType.VM_DELETED,
    ]) {
      expect(types.has(type)).toBe(true);
    }
    expect(events.every((e) => e.timestamp !== undefined)).toBe(true);

    const resumeFrom = events[events.length - 3]!.id;
    const ac = new AbortController();
    const replayed: bigint[] = [];
    for await (const e of t.grpc.streamEvents({ afterEventId: resumeFrom }, { signal: ac.signal })) {
      replayed.push(e.id);
      if (replayed.length === 2) break;
    }
    expect(replayed).toEqual([events[events.length - 2]!.id, events[events.length - 1]!.id]);
  });

  test("every RPC of the service was exercised (none answers UNIMPLEMENTED)", () => {
    expect([...called].sort()).toEqual(NodeDaemonService.methods.map((m) => m.name).sort());
  });
});
