// The registrar telling the in-test control plane about the node's VMs (contract 6.2): the sync
// after registration, NotifyVMChange from VM source events, the heartbeat's state hash, and a
// control plane that answers "unimplemented" as the real one at HEAD does.
import { describe, expect, test } from "bun:test";
import type { JsonValue } from "@bufbuild/protobuf";
import { VMChangeEventType as E, VMPowerState as P } from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import type { NodeVm } from "../../src/registration/registrar.ts";
import { stateHash } from "../../src/registration/state-hash.ts";
import type { FakeControlPlane } from "./fake-control-plane.ts";
import { useRegistrarHarness } from "./harness.ts";
import { fakeVms, waitFor } from "./helpers.ts";

const { plane, registrar } = useRegistrarHarness();

const web: NodeVm = {
  id: "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20",
  name: "web",
  state: "running",
  cpuCores: 4,
  memoryMib: 2048,
  diskPaths: ["/var/lib/limiquantix/vms/web/root.qcow2"],
};
const db: NodeVm = { id: "0c4e5f6a-1b2c-4d3e-8f9a-0b1c2d3e4f5a", name: "db", state: "stopped" };
const fresh: NodeVm = { id: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", name: "new", state: "stopped" };
const fixedNow = new Date("2026-01-02T03:04:05Z");

const heartbeats = (cp: FakeControlPlane) => cp.callsTo("UpdateHeartbeat");
const notes = (cp: FakeControlPlane) => cp.callsTo("NotifyVMChange");
/** Every key of a JSON value, nested ones included. */
function keysOf(value: JsonValue | undefined): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
}
/** Waits for a heartbeat sent after `at`, and returns it. */
async function heartbeatAfter(cp: FakeControlPlane, at: number) {
  await waitFor("a later heartbeat", () => heartbeats(cp).some((h) => h.at > at));
  return heartbeats(cp).find((h) => h.at > at)!;
}

describe("registrar: VMs", () => {
  test("registration: SyncNodeVMs with every VM, SyncFullState, then heartbeats with the state hash; proto3 JSON names", async () => {
    const cp = await plane();
    const { r } = registrar(cp, { vms: fakeVms([web, db]).source, encoding: "json", now: () => fixedNow });
    r.start();
    await waitFor("a heartbeat", () => heartbeats(cp).length >= 1);
    const id = r.status().nodeId!;
    expect(cp.calls.slice(0, 4).map((c) => c.method)).toEqual(["RegisterNode", "SyncNodeVMs", "SyncFullState", "UpdateHeartbeat"]);

    // As the Connect client put it on the wire: camelCase names, 64-bit numbers as strings,
    // zero values left out.
    const sync = cp.callsTo("SyncNodeVMs")[0]!;
    expect(sync.contentType).toBe("application/json");
    expect(sync.json).toEqual({
      nodeId: id,
      vms: [
        { id: web.id, name: "web", state: "Running", cpuCores: 4, memoryMib: "2048", diskPaths: ["/var/lib/limiquantix/vms/web/root.qcow2"] },
        { id: db.id, name: "db", state: "Stopped" },
      ],
    });
    const expectedHash = stateHash([
      { id: web.id, power: P.VM_POWER_STATE_RUNNING, changeCount: 0 },
      { id: db.id, power: P.VM_POWER_STATE_STOPPED, changeCount: 0 },
    ]);
    const full = cp.callsTo("SyncFullState")[0]!;
    expect(full.json).toEqual({
      nodeId: id,
      hostInfo: {
        hostname: "hv-test-01",
        managementIp: "192.168.1.10:9090",
        memoryTotalBytes: String(64 * 1024 ** 3),
        memoryAvailableBytes: String(56 * 1024 ** 3 - 123),
        cpuCores: 32,
        cpuUsagePercent: 12.5,
      },
      vms: [
        { id: db.id, name: "db", state: "VM_POWER_STATE_STOPPED", stateChangedAtUnix: "1767323045" },
        { id: web.id, name: "web", state: "VM_POWER_STATE_RUNNING", stateChangedAtUnix: "1767323045" },
      ],
      stateHash: expectedHash,
    });
    const hb = heartbeats(cp)[0]!;
    expect(hb.request.stateHash).toBe(expectedHash);
    expect((hb.json as { stateHash?: string }).stateHash).toBe(expectedHash);
    expect(hb.request.storagePools).toEqual([]);
    for (const call of cp.calls) expect(keysOf(call.json).filter((k) => k.includes("_"))).toEqual([]);
    expect(cp.vmIds).toEqual(new Set([web.id, db.id]));
  });

  test("no VMs: no SyncNodeVMs; SyncFullState and heartbeats carry the empty hash", async () => {
    const cp = await plane();
    const { r } = registrar(cp);
    r.start();
    await waitFor("two heartbeats", () => heartbeats(cp).length >= 2);
    expect(cp.callsTo("SyncNodeVMs")).toHaveLength(0);
    expect(cp.callsTo("SyncFullState")[0]?.request).toMatchObject({ vms: [], stateHash: "e3b0c44298fc1c14" });
    expect(heartbeats(cp).map((h) => h.request.stateHash)).toEqual(["e3b0c44298fc1c14", "e3b0c44298fc1c14"]);
  });

  test("events: CREATED, UPDATED with the previous state and a growing count, DELETED; the hash follows", async () => {
    const cp = await plane();
    const vms = fakeVms([db]);
    const { r } = registrar(cp, { vms: vms.source });
    r.start();
    await waitFor("a heartbeat", () => heartbeats(cp).length >= 1);

    vms.set(fresh);
    await waitFor("CREATED", () => notes(cp).length >= 1);
    vms.set({ ...fresh, state: "running" });
    await waitFor("UPDATED", () => notes(cp).length >= 2);
    const hb = await heartbeatAfter(cp, notes(cp)[1]!.at);
    expect(hb.request.stateHash).toBe(
      stateHash([
        { id: db.id, power: P.VM_POWER_STATE_STOPPED, changeCount: 0 },
        { id: fresh.id, power: P.VM_POWER_STATE_RUNNING, changeCount: 1 },
      ]),
    );
    // Still running as far as the control plane is concerned: no notification.
    vms.set({ ...fresh, state: "shutting_down" });
    vms.set({ ...fresh, state: "paused" });
    await waitFor("UPDATED again", () => notes(cp).length >= 3);
    vms.remove(fresh.id);
    await waitFor("DELETED", () => notes(cp).length >= 4);

    const id = r.status().nodeId;
    expect(notes(cp).every((n) => n.request.nodeId === id && n.request.vm?.id === fresh.id && n.request.vm.name === "new")).toBe(true);
    expect(notes(cp).map((n) => [n.request.eventType, n.request.previousState, n.request.vm?.state, n.request.vm?.stateChangeCount])).toEqual([
      [E.VM_CHANGE_CREATED, P.VM_POWER_STATE_UNKNOWN, P.VM_POWER_STATE_STOPPED, 0n],
      [E.VM_CHANGE_UPDATED, P.VM_POWER_STATE_STOPPED, P.VM_POWER_STATE_RUNNING, 1n],
      [E.VM_CHANGE_UPDATED, P.VM_POWER_STATE_RUNNING, P.VM_POWER_STATE_PAUSED, 2n],
      [E.VM_CHANGE_DELETED, P.VM_POWER_STATE_UNKNOWN, P.VM_POWER_STATE_STOPPED, 0n],
    ]);
    const after = await heartbeatAfter(cp, notes(cp)[3]!.at);
    expect(after.request.stateHash).toBe(stateHash([{ id: db.id, power: P.VM_POWER_STATE_STOPPED, changeCount: 0 }]));
  });

  test("a notification that gets no answer never holds up the heartbeat", async () => {
    const cp = await plane();
    const vms = fakeVms();
    const { r } = registrar(cp, { vms: vms.source, callTimeoutMs: 10_000 });
    r.start();
    await waitFor("a heartbeat", () => heartbeats(cp).length >= 1);
    cp.holdCalls("NotifyVMChange");
    vms.set(fresh);
    await waitFor("the notification in flight", () => notes(cp).length === 1);
    const before = heartbeats(cp).length;
    await waitFor("3 heartbeats while it hangs", () => heartbeats(cp).length >= before + 3);
    expect(notes(cp)).toHaveLength(1);
    // stop() (afterEach) ends the call in flight.
  });

  test("unimplemented SyncFullState and NotifyVMChange: tried once, said once at info, tried again after re-registration", async () => {
    const cp = await plane();
    cp.setUnimplemented("SyncFullState", "NotifyVMChange");
    const vms = fakeVms([db]);
    const { r, logger } = registrar(cp, { vms: vms.source });
    r.start();
    await waitFor("a heartbeat", () => heartbeats(cp).length >= 1);
    vms.set(fresh);
    await waitFor("the first notification", () => notes(cp).length >= 1);
    vms.set({ ...fresh, state: "running" });
    vms.set({ ...web });
    const before = heartbeats(cp).length;
    await waitFor("3 more heartbeats", () => heartbeats(cp).length >= before + 3);
    expect(cp.callsTo("SyncFullState")).toHaveLength(1);
    expect(notes(cp)).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === "info" && /does not support (SyncFullState|NotifyVMChange)/.test(l.message))).toHaveLength(2);
    expect(logger.lines.filter((l) => l.level === "warn" || l.level === "error")).toEqual([]);
    expect(r.status().registered).toBe(true);

    // A new registration (the control plane forgot the node): worth a try again, not worth a new line.
    cp.forgetNodes();
    await waitFor("SyncFullState again", () => cp.callsTo("SyncFullState").length >= 2);
    expect(cp.callsTo("SyncNodeVMs")).toHaveLength(2);
    vms.set({ ...fresh, state: "paused" });
    await waitFor("a notification again", () => notes(cp).length >= 2);
    expect(logger.count(/does not support/)).toBe(2);
  });

  test("while notifications fail, changes wait (one per VM) and go out once the control plane answers", async () => {
    const cp = await plane();
    cp.setUnavailable("NotifyVMChange");
    const vms = fakeVms([db]);
    const { r, logger } = registrar(cp, { vms: vms.source });
    r.start();
    await waitFor("a heartbeat", () => heartbeats(cp).length >= 1);
    vms.set(fresh);
    await waitFor("a failed notification", () => notes(cp).length >= 1);
    const heartbeatsAtFailure = heartbeats(cp).length;
    vms.set({ ...fresh, state: "running" });
    vms.set({ ...fresh, state: "paused" });
    await waitFor("3 more heartbeats", () => heartbeats(cp).length >= heartbeatsAtFailure + 3);
    // Retried after a heartbeat answers, never in a loop of its own.
    expect(notes(cp).length).toBeLessThanOrEqual(1 + heartbeats(cp).length - heartbeatsAtFailure);
    expect(r.status().registered).toBe(true);
    expect(logger.count(/NotifyVMChange failed/)).toBe(1);

    cp.setUnavailable();
    const failed = notes(cp).length;
    await waitFor("delivered", () => notes(cp).length > failed);
    await heartbeatAfter(cp, notes(cp).at(-1)!.at);
    await heartbeatAfter(cp, heartbeats(cp).at(-1)!.at);
    const delivered = notes(cp).slice(failed);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.request).toMatchObject({ eventType: E.VM_CHANGE_CREATED, vm: { id: fresh.id, state: P.VM_POWER_STATE_PAUSED } });
  });

  test("a change while the VMs are being listed reaches the control plane after the full sync", async () => {
    const cp = await plane();
    const vms = fakeVms([db]);
    const release = vms.holdListing();
    const { r } = registrar(cp, { vms: vms.source });
    r.start();
    await waitFor("the listing", () => vms.listCalls() >= 1);
    vms.set({ ...db, state: "running" });
    release();
    await waitFor("the notification", () => notes(cp).length >= 1);
    const methods = cp.calls.map((c) => c.method);
    expect(methods.slice(0, 3)).toEqual(["RegisterNode", "SyncNodeVMs", "SyncFullState"]);
    expect(methods.indexOf("NotifyVMChange")).toBeGreaterThan(methods.indexOf("SyncFullState"));
    expect(cp.callsTo("SyncFullState")[0]!.request.vms).toMatchObject([{ id: db.id, state: P.VM_POWER_STATE_STOPPED }]);
    expect(notes(cp)[0]!.request).toMatchObject({
      eventType: E.VM_CHANGE_UPDATED,
      previousState: P.VM_POWER_STATE_STOPPED,
      vm: { id: db.id, state: P.VM_POWER_STATE_RUNNING, stateChangeCount: 1n },
    });
  });

  test("request_full_sync: SyncFullState again, change counts reset there and in later heartbeats", async () => {
    const cp = await plane();
    const vms = fakeVms([db]);
    const { r } = registrar(cp, { vms: vms.source });
    r.start();
    await waitFor("a heartbeat", () => heartbeats(cp).length >= 1);
    vms.set({ ...db, state: "running" });
    await waitFor("UPDATED", () => notes(cp).length >= 1);
    cp.setRequestFullSync(true);
    await waitFor("a second SyncFullState", () => cp.callsTo("SyncFullState").length >= 2);
    cp.setRequestFullSync(false);
    const second = cp.callsTo("SyncFullState")[1]!;
    expect(second.request.vms).toMatchObject([{ id: db.id, state: P.VM_POWER_STATE_RUNNING, stateChangeCount: 0n }]);
    const reset = stateHash([{ id: db.id, power: P.VM_POWER_STATE_RUNNING, changeCount: 0 }]);
    expect(second.request.stateHash).toBe(reset);
    expect((await heartbeatAfter(cp, cp.callsTo("SyncFullState").at(-1)!.at)).request.stateHash).toBe(reset);
    expect(cp.callsTo("SyncNodeVMs")).toHaveLength(1);
  });

  test("VMs that cannot be listed: nothing sent, one warning; the sync follows a heartbeat once they can", async () => {
    const cp = await plane();
    const vms = fakeVms([db]);
    vms.failListing(new Error("libvirt: connection refused"));
    const { r, logger } = registrar(cp, { vms: vms.source });
    r.start();
    await waitFor("3 heartbeats", () => heartbeats(cp).length >= 3);
    expect(cp.callsTo("SyncNodeVMs")).toHaveLength(0);
    expect(cp.callsTo("SyncFullState")).toHaveLength(0);
    expect(logger.count(/cannot list VMs for the control plane: libvirt: connection refused/)).toBe(1);
    vms.failListing(undefined);
    await waitFor("SyncFullState", () => cp.callsTo("SyncFullState").length >= 1);
    expect(cp.callsTo("SyncNodeVMs")[0]?.request.vms).toMatchObject([{ id: db.id, state: "Stopped" }]);
    expect(cp.callsTo("RegisterNode")).toHaveLength(1);
  });

  test("the VM source is subscribed while running and released by stop()", async () => {
    const cp = await plane();
    const vms = fakeVms();
    const { r } = registrar(cp, { vms: vms.source });
    r.start();
    expect(vms.listeners()).toBe(1);
    await waitFor("registered", () => r.status().registered);
    await r.stop();
    expect(vms.listeners()).toBe(0);
  });
});
