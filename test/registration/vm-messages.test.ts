import { describe, expect, test } from "bun:test";
import {
  StoragePoolStatusReport_HealthStatus as Health,
  VMChangeEventType as E,
  VMPowerState as P,
} from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import type { VmState } from "../../src/hypervisor/types.ts";
import { buildHeartbeatRequest, buildStoragePoolReport } from "../../src/registration/messages.ts";
import { stateHash } from "../../src/registration/state-hash.ts";
import { buildHostInfo, buildSyncFullStateRequest, buildSyncNodeVmsRequest, buildVmChangeNotification } from "../../src/registration/vm-messages.ts";
import { powerStateOf, stateWordOf } from "../../src/registration/vm-state.ts";
import type { TrackedVm } from "../../src/registration/vm-tracker.ts";
import { figuresFixture, identityFixture } from "./helpers.ts";

const at = new Date("2026-01-02T03:04:05Z");
const atUnix = 1767323045n;

describe("VM state mapping", () => {
  const table: [VmState, P, string][] = [
    ["running", P.VM_POWER_STATE_RUNNING, "Running"],
    ["stopped", P.VM_POWER_STATE_STOPPED, "Stopped"],
    ["paused", P.VM_POWER_STATE_PAUSED, "Paused"],
    ["suspended", P.VM_POWER_STATE_SUSPENDED, "Suspended"],
    ["crashed", P.VM_POWER_STATE_CRASHED, "Crashed"],
    ["shutting_down", P.VM_POWER_STATE_RUNNING, "Running"],
    ["migrating", P.VM_POWER_STATE_RUNNING, "Running"],
  ];
  for (const [state, power, word] of table) {
    test(`${state} is ${word}`, () => {
      expect(powerStateOf(state)).toBe(power);
      expect(stateWordOf(powerStateOf(state))).toBe(word);
    });
  }
  test("a state this build does not know is Unknown (0), never a guess; so are names on Object.prototype", () => {
    expect(powerStateOf("hibernating" as VmState)).toBe(P.VM_POWER_STATE_UNKNOWN);
    expect(powerStateOf("constructor" as VmState)).toBe(P.VM_POWER_STATE_UNKNOWN);
    expect(stateWordOf(P.VM_POWER_STATE_UNKNOWN)).toBe("Unknown");
    expect(stateWordOf(P.VM_POWER_STATE_SHUTOFF)).toBe("Unknown");
  });
});

describe("SyncNodeVMs", () => {
  test("state word, sizes and disk paths; absent figures are 0 and []", () => {
    const req = buildSyncNodeVmsRequest("node-1", [
      { id: "u1", name: "web", state: "running", cpuCores: 4, memoryMib: 2048, diskPaths: ["/var/lib/limiquantix/vms/u1/root.qcow2"] },
      { id: "u2", name: "db", state: "shutting_down" },
    ]);
    expect(req.nodeId).toBe("node-1");
    expect(req.vms).toMatchObject([
      { id: "u1", name: "web", state: "Running", cpuCores: 4, memoryMib: 2048n, diskPaths: ["/var/lib/limiquantix/vms/u1/root.qcow2"] },
      { id: "u2", name: "db", state: "Running", cpuCores: 0, memoryMib: 0n, diskPaths: [] },
    ]);
  });
});

const tracked: TrackedVm[] = [
  { id: "u1", name: "web", power: P.VM_POWER_STATE_RUNNING, changeCount: 2, changedAt: at },
  { id: "u2", name: "db", power: P.VM_POWER_STATE_STOPPED, changeCount: 0, changedAt: at },
];

describe("SyncFullState", () => {
  test("host info, VM reports and the hash over exactly the VMs sent", () => {
    const req = buildSyncFullStateRequest({
      nodeId: "node-1",
      host: { identity: identityFixture, figures: figuresFixture, managementEndpoint: "192.168.1.10:9090" },
      vms: tracked,
      storagePools: [],
    });
    expect(req.hostInfo).toMatchObject({
      hostname: "hv-test-01",
      managementIp: "192.168.1.10:9090",
      memoryTotalBytes: 64n * 1024n * 1024n * 1024n,
      memoryAvailableBytes: 56n * 1024n * 1024n * 1024n - 123n,
      cpuCores: 32,
      cpuUsagePercent: 12.5,
    });
    expect(req.vms).toMatchObject([
      { id: "u1", name: "web", state: P.VM_POWER_STATE_RUNNING, stateChangeCount: 2n, stateChangedAtUnix: atUnix, cpuUsagePercent: 0, ipAddresses: [] },
      { id: "u2", name: "db", state: P.VM_POWER_STATE_STOPPED, stateChangeCount: 0n },
    ]);
    expect(req.stateHash).toBe(stateHash(tracked));
  });

  test("without live figures the identity's memory is used; a configured hostname wins", () => {
    const info = buildHostInfo({ identity: identityFixture, figures: {}, hostname: "hv-configured", managementEndpoint: "" });
    expect(info).toMatchObject({
      hostname: "hv-configured",
      memoryTotalBytes: 134_217_728_000n,
      memoryAvailableBytes: 120_000_000_000n,
      cpuUsagePercent: 0,
    });
  });
});

describe("NotifyVMChange", () => {
  test("created and updated carry the VM; only updated has a previous state", () => {
    const created = buildVmChangeNotification("node-1", { type: "created", vm: tracked[1]!, at });
    expect(created).toMatchObject({ nodeId: "node-1", eventType: E.VM_CHANGE_CREATED, timestampUnix: atUnix, previousState: P.VM_POWER_STATE_UNKNOWN });
    expect(created.vm).toMatchObject({ id: "u2", name: "db", state: P.VM_POWER_STATE_STOPPED });
    const updated = buildVmChangeNotification("node-1", { type: "updated", vm: tracked[0]!, previous: P.VM_POWER_STATE_PAUSED, at });
    expect(updated).toMatchObject({ eventType: E.VM_CHANGE_UPDATED, previousState: P.VM_POWER_STATE_PAUSED });
    expect(updated.vm).toMatchObject({ state: P.VM_POWER_STATE_RUNNING, stateChangeCount: 2n });
  });

  test("deleted: the last known id and name, stopped, no changes", () => {
    const n = buildVmChangeNotification("node-1", { type: "deleted", vm: tracked[0]!, at });
    expect(n.eventType).toBe(E.VM_CHANGE_DELETED);
    expect(n.previousState).toBe(P.VM_POWER_STATE_UNKNOWN);
    expect(n.vm).toMatchObject({ id: "u1", name: "web", state: P.VM_POWER_STATE_STOPPED, stateChangeCount: 0n });
  });
});

describe("heartbeat state and storage pools", () => {
  test("the hash and a list of pools; an empty list stays empty", () => {
    const pools = [
      { poolId: "p1", health: "healthy" as const, totalBytes: 100, usedBytes: 40, availableBytes: 60, mountPath: "/mnt/p1", volumeCount: 3, lastMountAt: at },
      { poolId: "p2", health: "unmounted" as const, errorMessage: "not mounted" },
    ];
    const req = buildHeartbeatRequest("n", figuresFixture, { stateHash: "0123456789abcdef", storagePools: pools });
    expect(req.stateHash).toBe("0123456789abcdef");
    expect(req.storagePools).toMatchObject([
      {
        poolId: "p1",
        health: Health.HEALTH_HEALTHY,
        totalBytes: 100n,
        usedBytes: 40n,
        availableBytes: 60n,
        mountPath: "/mnt/p1",
        volumeCount: 3,
        lastMountUnix: atUnix,
      },
      { poolId: "p2", health: Health.HEALTH_UNMOUNTED, totalBytes: 0n, mountPath: "", errorMessage: "not mounted", lastMountUnix: 0n },
    ]);
    expect(buildHeartbeatRequest("n", {}, { stateHash: "", storagePools: [] }).storagePools).toEqual([]);
    expect(buildStoragePoolReport({ poolId: "p", health: "degraded" }).health).toBe(Health.HEALTH_DEGRADED);
  });
});
