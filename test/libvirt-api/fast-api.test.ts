// The fast tier through the daemon's API: a daemon in this process with the libvirt backend on
// libvirt's test:///default driver (no libvirtd needed), driven by a real gRPC client, each step
// checked against libvirt itself over a connection of this test's own.

import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DiskFormat, EventType, type NodeEvent, VMSpecSchema, VMState } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import * as ffi from "../../src/hypervisor/libvirt/ffi/index.ts";
import { parseDomainXml } from "../../src/hypervisor/libvirt/domain-xml/index.ts";
import { connectErrorOf, latencyRows, measureStatusLatency, printTable, startLibvirtDaemon, type LibvirtTestDaemon } from "./helpers.ts";
import { readStatusByHand } from "../support/libvirt-reads-by-hand.ts";
import { type EventRecorder, recordEvents } from "../support/record-events.ts";

const URI = "test:///default";
let t: LibvirtTestDaemon;
let conn: ffi.Connection;
const events: NodeEvent[] = [];
let recorder: EventRecorder | undefined;
const id = crypto.randomUUID();

/** libvirt's own view: state number (1 running, 3 paused, 5 shut off) or undefined when gone. */
function libvirtState(): number | undefined {
  if (ffi.lookupDomainByName(conn, `api-fast-${id.slice(0, 8)}`) === null) return undefined;
  return ffi.withDomain(conn, id, (d) => ffi.domainState(conn, d).state);
}

beforeAll(async () => {
  // The node setting travels config -> createBackend -> domain XML.
  t = await startLibvirtDaemon({ uri: URI, cpuDisabledFeatures: ["arch-capabilities"] });
  conn = ffi.openConnection(ffi.loadLibvirt(), URI);
  recorder = recordEvents(t.grpc, events);
});

afterAll(async () => {
  await recorder?.stop();
  ffi.closeConnection(conn);
  await t.stop();
});

describe(`the daemon's API on the libvirt backend at ${URI}`, () => {
  test("HealthCheck names the libvirt backend", async () => {
    const h = await t.grpc.healthCheck({});
    expect(h).toMatchObject({ healthy: true, hypervisor: "libvirt", message: "" });
    expect((await t.grpc.getNodeInfo({})).hypervisor?.uri).toBe(URI);
  });

  test("CreateVM with a new qcow2 disk defines the domain in libvirt", async () => {
    const spec = create(VMSpecSchema, {
      name: `api-fast-${id.slice(0, 8)}`,
      cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1 },
      memory: { sizeMib: 128n },
      disks: [{ id: "root", source: { case: "newImage", value: { sizeBytes: 1n << 20n, format: DiskFormat.QCOW2 } }, bootOrder: 1 }],
      labels: { tier: "fast" },
    });
    const res = await t.grpc.createVM({ vmId: id, spec });
    expect(res.created).toBe(true);
    expect(res.vm?.state).toBe(VMState.VM_STATE_STOPPED);
    expect(res.vm?.spec?.disks[0]?.resolvedPath).toBe(`${t.storagePath}/${id}-root.qcow2`);
    expect(libvirtState()).toBe(5);
    const xml = ffi.withDomain(conn, id, (d) => ffi.domainXml(conn, d, ffi.DOMAIN_XML.INACTIVE));
    expect(parseDomainXml(xml).spec.labels).toEqual({ tier: "fast" });
    expect(xml).toContain(`<feature policy='disable' name='arch-capabilities'/>`);
    expect(xml.match(/model='pcie-root-port'/g)?.length ?? 0).toBeGreaterThanOrEqual(8);
    // The same request again is answered with the existing VM, not a second one.
    expect((await t.grpc.createVM({ vmId: id, spec })).created).toBe(false);
  });

  test("start, pause, resume: the API and libvirt agree at each step", async () => {
    expect((await t.grpc.startVM({ vmId: id })).vm?.state).toBe(VMState.VM_STATE_RUNNING);
    expect(libvirtState()).toBe(1);
    expect((await t.grpc.pauseVM({ vmId: id })).vm?.state).toBe(VMState.VM_STATE_PAUSED);
    expect(libvirtState()).toBe(3);
    const again = await connectErrorOf(t.grpc.pauseVM({ vmId: id }));
    expect(again.code).toBe(Code.FailedPrecondition);
    expect(again.rawMessage).toContain("already paused");
    expect((await t.grpc.resumeVM({ vmId: id })).vm?.state).toBe(VMState.VM_STATE_RUNNING);
    expect(libvirtState()).toBe(1);
  });

  test("snapshots: create two, list with parents, revert, delete", async () => {
    await t.grpc.createSnapshot({ vmId: id, name: "s1", description: "first" });
    const s2 = await t.grpc.createSnapshot({ vmId: id, name: "s2" });
    expect(s2).toMatchObject({ name: "s2", parent: "s1", current: true });
    const listed = (await t.grpc.listSnapshots({ vmId: id })).snapshots.map((s) => [s.name, s.parent]);
    expect(listed.sort()).toEqual([["s1", ""], ["s2", "s1"]]);
    expect(ffi.withDomain(conn, id, (d) => ffi.listSnapshots(conn, d)).map((s) => s.name).sort()).toEqual(["s1", "s2"]);
    await t.grpc.revertSnapshot({ vmId: id, name: "s1" });
    expect((await t.grpc.getVMStatus({ vmId: id })).currentSnapshot).toBe("s1");
    expect(ffi.withDomain(conn, id, (d) => ffi.currentSnapshotName(conn, d))).toBe("s1");
    await t.grpc.deleteSnapshot({ vmId: id, name: "s2" });
    expect((await t.grpc.listSnapshots({ vmId: id })).snapshots.map((s) => s.name)).toEqual(["s1"]);
    const missing = await connectErrorOf(t.grpc.deleteSnapshot({ vmId: id, name: "s2" }));
    expect(missing.code).toBe(Code.NotFound);
  });

  test("GetVMStatus through the daemon adds little over the direct libvirt calls", async () => {
    const direct = () => readStatusByHand(conn, id);
    const r = await measureStatusLatency(300, direct, () => t.daemon.hypervisor.getVm(id), () => t.grpc.getVMStatus({ vmId: id }), () => t.grpc.healthCheck({}));
    printTable(`GetVMStatus on ${URI}, ms (median of 300; added = median of paired differences)`, latencyRows(r));
    // Budget 1 ms; generous here so a noisy CI machine does not fail (the figures are reported).
    expect(r.added.backend).toBeLessThan(1.5);
    expect(r.added.api).toBeLessThan(5);
  }, 30_000);

  test("graceful stop, then delete with disks: libvirt no longer has the domain", async () => {
    expect((await t.grpc.stopVM({ vmId: id, timeoutSeconds: 5 })).vm?.state).toBe(VMState.VM_STATE_STOPPED);
    expect(libvirtState()).toBe(5);
    const del = await t.grpc.deleteVM({ vmId: id, deleteDisks: true });
    expect(del.deletedDisks).toEqual([`${t.storagePath}/${id}-root.qcow2`]);
    expect(libvirtState()).toBeUndefined();
    expect((await connectErrorOf(t.grpc.getVMStatus({ vmId: id }))).code).toBe(Code.NotFound);
  });

  test("StreamEvents carried every step, from libvirt's own events", async () => {
    const want = (type: EventType, state?: VMState) => () =>
      events.some((e) => e.vmId === id && e.type === type && (state === undefined || e.state === state));
    for (let i = 0; i < 100 && !want(EventType.VM_DELETED)(); i++) await Bun.sleep(20);
    for (const [type, state] of [
      [EventType.VM_CREATED, undefined],
      [EventType.VM_STATE_CHANGED, VMState.VM_STATE_RUNNING],
      [EventType.VM_STATE_CHANGED, VMState.VM_STATE_PAUSED],
      [EventType.SNAPSHOT_CREATED, undefined],
      [EventType.SNAPSHOT_REVERTED, undefined],
      [EventType.VM_STATE_CHANGED, VMState.VM_STATE_STOPPED],
      [EventType.VM_DELETED, undefined],
    ] as const) {
      expect({ type: EventType[type], state: state && VMState[state], seen: want(type, state)() }).toEqual({
        type: EventType[type],
        state: state && VMState[state],
        seen: true,
      });
    }
  });
});
