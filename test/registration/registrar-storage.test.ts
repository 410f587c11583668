// Storage in registration, against the in-test control plane: every heartbeat reports each pool
// (health, capacity, mount path, volume count, error), pools the control plane assigns but the
// node lacks are fetched with StoragePoolService/GetPool and initialised (contract 6.6), and the
// cloud images folder is reported with ImageService/ScanLocalImages after registering (6.4).
// Both JSON and binary encodings, with the mock backend's real storage model behind it.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StoragePoolStatusReport_HealthStatus as Health } from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import { OsInfo_OsFamily, StorageBackend_BackendType } from "../../src/gen/limiquantix/storage/v1/storage_service_pb.ts";
import { createMockHypervisor } from "../../src/hypervisor/mock/index.ts";
import { createStorageSync } from "../../src/registration/storage-sync.ts";
import { poolReportOf } from "../../src/registration/pool-messages.ts";
import { useRegistrarHarness } from "./harness.ts";
import { recordingLogger, waitFor } from "./helpers.ts";

const h = useRegistrarHarness();
const ASSIGNED = "3a9d4c1e-7f2b-4c8a-b6e5-0d1f2e3c4b5a";

function world(encoding: "binary" | "json") {
  const root = h.stateDir();
  const hv = createMockHypervisor({ storagePath: join(root, "vms") });
  const cloud = join(root, "cloud-images");
  mkdirSync(cloud, { recursive: true });
  const storage = createStorageSync({
    hypervisor: hv,
    cloudImagesDir: cloud,
    localPoolsDir: join(root, "pools"),
    mountsDir: join(root, "mnt"),
    log: recordingLogger(),
  });
  return { hv, cloud, storage, encoding };
}

describe.each(["binary", "json"] as const)("storage in registration (%s)", (encoding) => {
  test("heartbeats report every pool; an assigned pool the node lacks is fetched and initialised, then reported", async () => {
    const w = world(encoding);
    const cp = await h.plane();
    cp.setPool({
      id: ASSIGNED,
      name: "local-ssd",
      spec: { backend: { type: StorageBackend_BackendType.LOCAL_DIR, config: { case: "localDir", value: { path: join(h.stateDir(), "ssd") } } } },
    });
    cp.setAssignedPoolIds([ASSIGNED]);
    const { r } = h.registrar(cp, { storage: w.storage, encoding });
    r.start();
    await waitFor("GetPool", () => cp.callsTo("GetPool").length >= 1);
    expect(cp.callsTo("GetPool")[0]?.request.id).toBe(ASSIGNED);
    await waitFor("the assigned pool in a heartbeat", () =>
      cp.callsTo("UpdateHeartbeat").some((c) => c.request.storagePools.some((p) => p.poolId === ASSIGNED)),
    );
    const beat = cp.callsTo("UpdateHeartbeat").find((c) => c.request.storagePools.some((p) => p.poolId === ASSIGNED))!;
    const reported = beat.request.storagePools.find((p) => p.poolId === ASSIGNED)!;
    expect(reported).toMatchObject({ health: Health.HEALTH_HEALTHY, mountPath: join(h.stateDir(), "ssd", ASSIGNED), volumeCount: 0, errorMessage: "" });
    expect(reported.totalBytes).toBeGreaterThan(0n);
    expect(beat.request.storagePools.map((p) => p.poolId)).toContain("default");
    expect((await w.hv.getPool(ASSIGNED)).type).toBe("dir");
  });

  test("an assigned pool the control plane does not know is retried later, not on every beat; the beat goes on", async () => {
    const w = world(encoding);
    const cp = await h.plane();
    cp.setAssignedPoolIds(["gone-pool"]);
    const { r } = h.registrar(cp, { storage: w.storage, encoding });
    r.start();
    await waitFor("several heartbeats", () => cp.callsTo("UpdateHeartbeat").length >= 4, 5000);
    expect(cp.callsTo("GetPool").length).toBe(1);
  });

  test("ScanLocalImages after registering: the cloud images folder with the OS guessed from names", async () => {
    const w = world(encoding);
    writeFileSync(join(w.cloud, "ubuntu-22.04-server-cloudimg-amd64.img"), "x".repeat(10));
    writeFileSync(join(w.cloud, "notes.txt"), "not an image");
    const cp = await h.plane();
    const { r } = h.registrar(cp, { storage: w.storage, encoding });
    r.start();
    await waitFor("ScanLocalImages", () => cp.callsTo("ScanLocalImages").length >= 1);
    const call = cp.callsTo("ScanLocalImages")[0]!;
    expect(call.request.nodeId).toBe(cp.nodes.get("hv-test-01")!.id);
    expect(call.request.images).toHaveLength(1);
    expect(call.request.images[0]).toMatchObject({
      filename: "ubuntu-22.04-server-cloudimg-amd64.img",
      sizeBytes: 10n,
      format: "img",
      detectedOs: { family: OsInfo_OsFamily.LINUX, distribution: "ubuntu", version: "22.04", defaultUser: "ubuntu", cloudInitEnabled: true },
    });
    expect(call.request.images[0]!.modifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe("pool reports (pure)", () => {
  const base = { id: "p", type: "dir" as const, path: "/p", active: true, totalBytes: 100, availableBytes: 40, usedBytes: 60, volumeCount: 2 };
  test("healthy with room, degraded when full, error (with the reason) when libvirt cannot start it", () => {
    expect(poolReportOf(base)).toMatchObject({ health: "healthy", mountPath: "/p", volumeCount: 2 });
    expect(poolReportOf({ ...base, availableBytes: 0 })).toMatchObject({ health: "degraded" });
    expect(poolReportOf({ ...base, active: false, error: "mount failed" })).toMatchObject({ health: "error", errorMessage: "mount failed" });
    expect(poolReportOf({ ...base, type: "iscsi", path: "", devicePath: "/dev/vg" })).toMatchObject({ mountPath: "/dev/vg" });
  });
});
