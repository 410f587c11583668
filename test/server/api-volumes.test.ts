// Pools of every type and the volume RPCs (CreateVolume with each source, DeleteVolume,
// CloneVolume, GetVolumeAttachInfo, CreateVolumeSnapshot, ListVolumes, ListImages,
// DestroyStoragePool) through a real gRPC client against an in-process dev daemon (mock backend),
// and the bad input the issue lists: unknown types, ids with / or .., absurd sizes, shrinking,
// destroying a pool whose volume a VM uses.

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StoragePoolType, VolumeSourceType } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { newVmId, startTestDaemon, type TestDaemon } from "../support/daemon.ts";

const MIB = 1n << 20n;
let t: TestDaemon;

beforeAll(async () => {
  t = await startTestDaemon();
});
afterAll(() => t.stop());

async function code(p: Promise<unknown>): Promise<{ code: Code; message: string } | "OK"> {
  try {
    await p;
    return "OK";
  } catch (err) {
    return { code: ConnectError.from(err).code, message: ConnectError.from(err).rawMessage };
  }
}

describe("pools of every type (mock: no network)", () => {
  test("NFS, Ceph and iSCSI pools are defined, listed and read back with their type and source", async () => {
    const nfs = await t.grpc.initStoragePool({
      poolId: "nfs-1",
      type: StoragePoolType.NFS,
      config: { nfs: { server: "nas.example", exportPath: "/exports/vms", version: "4.1" } },
    });
    expect(nfs).toMatchObject({
      type: StoragePoolType.NFS,
      mountPath: join(t.config.node.stateDir, "mnt", "nfs-nfs-1"),
      source: "nas.example:/exports/vms",
      active: true,
    });
    const ceph = await t.grpc.initStoragePool({
      poolId: "ceph-1",
      type: StoragePoolType.CEPH_RBD,
      config: { ceph: { poolName: "vms", monitors: ["mon1:6789", "mon2"], user: "libvirt" } },
    });
    expect(ceph).toMatchObject({ type: StoragePoolType.CEPH_RBD, mountPath: "", rbdPool: "vms", source: "mon1:6789,mon2:6789/vms" });
    const iscsi = await t.grpc.initStoragePool({
      poolId: "iscsi-1",
      type: StoragePoolType.ISCSI,
      config: { iscsi: { portal: "san:3260", target: "iqn.2026-01.com.example:vms", volumeGroup: "vg_vms" } },
    });
    expect(iscsi).toMatchObject({ type: StoragePoolType.ISCSI, devicePath: "/dev/vg_vms" });
    const ids = (await t.grpc.listStoragePools({})).pools.map((p) => p.poolId);
    expect(ids).toEqual(expect.arrayContaining(["default", "nfs-1", "ceph-1", "iscsi-1"]));
    // The same config again succeeds; a changed one is refused naming both.
    await t.grpc.initStoragePool({
      poolId: "nfs-1",
      type: StoragePoolType.NFS,
      config: { nfs: { server: "nas.example", exportPath: "/exports/vms", version: "4.1" } },
    });
    const changed = await code(
      t.grpc.initStoragePool({ poolId: "nfs-1", type: StoragePoolType.NFS, config: { nfs: { server: "other", exportPath: "/exports/vms" } } }),
    );
    expect(changed).toMatchObject({ code: Code.AlreadyExists, message: expect.stringContaining("nas.example:/exports/vms") });
    // Files of a pool without a mount path: a precondition of the pool, said clearly.
    expect(await code(t.grpc.listStoragePoolFiles({ poolId: "ceph-1" }))).toMatchObject({
      code: Code.FailedPrecondition,
      message: expect.stringContaining("no mount path"),
    });
  });

  test.each([
    ["an unknown type", { poolId: "x", type: 99 as StoragePoolType }, "type"],
    ["a pool id with /", { poolId: "a/b", type: StoragePoolType.LOCAL_DIR }, "pool_id"],
    ["a pool id with ..", { poolId: "a..b", type: StoragePoolType.LOCAL_DIR }, "pool_id"],
    ["NFS without a server", { poolId: "n", type: StoragePoolType.NFS, config: { nfs: { exportPath: "/e" } } }, "config.nfs.server"],
    [
      "an NFS version that does not exist",
      { poolId: "n", type: StoragePoolType.NFS, config: { nfs: { server: "s", exportPath: "/e", version: "5" } } },
      "config.nfs.version",
    ],
    [
      "NFS options with a comma-joined vers",
      { poolId: "n", type: StoragePoolType.NFS, config: { nfs: { server: "s", exportPath: "/e", options: "soft,vers=3" } } },
      "config.nfs.options",
    ],
    [
      "a Ceph monitor that is no host",
      { poolId: "c", type: StoragePoolType.CEPH_RBD, config: { ceph: { poolName: "p", monitors: ["bad host:1"] } } },
      "config.ceph.monitors[0]",
    ],
    [
      "an iSCSI target that is no IQN",
      { poolId: "i", type: StoragePoolType.ISCSI, config: { iscsi: { portal: "san", target: "vms" } } },
      "config.iscsi.target",
    ],
  ])("InitStoragePool refuses %s (INVALID_ARGUMENT naming %s)", async (_n, req, field) => {
    expect(await code(t.grpc.initStoragePool(req))).toMatchObject({ code: Code.InvalidArgument, message: expect.stringContaining(field) });
  });
});

describe("volumes", () => {
  test("create empty, clone, from an image, snapshot and from the snapshot; list, attach info, delete", async () => {
    const poolId = "vols";
    const pool = await t.grpc.initStoragePool({ poolId, type: StoragePoolType.LOCAL_DIR });
    mkdirSync(pool.mountPath, { recursive: true });
    const empty = await t.grpc.createVolume({ poolId, volumeId: "a", sizeBytes: 64n * MIB });
    expect(empty.volume).toMatchObject({ volumeId: "a.qcow2", poolId, sizeBytes: 64n * MIB, format: "qcow2", path: join(pool.mountPath, "a.qcow2") });
    const clone = await t.grpc.createVolume({ poolId, volumeId: "b", sourceType: VolumeSourceType.VOLUME_SOURCE_CLONE, sourceId: "a" });
    expect(clone.volume).toMatchObject({ sizeBytes: 64n * MIB, backingPath: join(pool.mountPath, "a.qcow2") });
    mkdirSync(t.config.hypervisor.storagePath, { recursive: true });
    const image = join(t.config.hypervisor.storagePath, "base.qcow2");
    writeFileSync(image, "QFI\xfb");
    const fromImage = await t.grpc.createVolume({
      poolId,
      volumeId: "c",
      sizeBytes: 128n * MIB,
      sourceType: VolumeSourceType.VOLUME_SOURCE_IMAGE,
      sourceId: image,
    });
    expect(fromImage.volume).toMatchObject({ backingPath: image, sizeBytes: 128n * MIB });
    const snap = await t.grpc.createVolumeSnapshot({ poolId, volumeId: "a", snapshotId: "s1" });
    expect(snap).toMatchObject({ snapshotId: "s1", volume: { volumeId: "a@s1.qcow2" } });
    const fromSnap = await t.grpc.createVolume({ poolId, volumeId: "d", sourceType: VolumeSourceType.VOLUME_SOURCE_SNAPSHOT, sourceId: "a@s1" });
    expect(fromSnap.volume?.backingPath).toBe(join(pool.mountPath, "a@s1.qcow2"));
    const full = await t.grpc.cloneVolume({ poolId, sourceVolumeId: "a", destVolumeId: "e" });
    expect(full.volume).toMatchObject({ volumeId: "e.qcow2", backingPath: "" });
    const listed = (await t.grpc.listVolumes({ poolId })).volumes.map((v) => v.volumeId);
    expect(listed).toEqual(["a.qcow2", "a@s1.qcow2", "b.qcow2", "c.qcow2", "d.qcow2", "e.qcow2"]);
    const attach = await t.grpc.getVolumeAttachInfo({ poolId, volumeId: "a" });
    expect(attach).toMatchObject({ volumeId: "a.qcow2", path: join(pool.mountPath, "a.qcow2") });
    expect(attach.diskXml).toContain(`<source file="${join(pool.mountPath, "a.qcow2")}"/>`);
    // a is the base of b: refused; b goes first.
    expect(await code(t.grpc.deleteVolume({ poolId, volumeId: "a" }))).toMatchObject({
      code: Code.FailedPrecondition,
      message: expect.stringContaining("base image of b.qcow2"),
    });
    await t.grpc.deleteVolume({ poolId, volumeId: "b" });
    expect(await code(t.grpc.deleteVolume({ poolId, volumeId: "b" }))).toMatchObject({ code: Code.NotFound });
    // Grows, never shrinks.
    expect((await t.grpc.resizeVolume({ poolId, volumeId: "e", newSizeBytes: 128n * MIB })).volume?.sizeBytes).toBe(128n * MIB);
    expect(await code(t.grpc.resizeVolume({ poolId, volumeId: "e", newSizeBytes: 64n * MIB }))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining("only grow"),
    });
  });

  test.each([
    ["a volume id with /", { volumeId: "../x", sizeBytes: MIB }, "volume_id"],
    ["a volume id ..", { volumeId: "..", sizeBytes: MIB }, "volume_id"],
    ["an absurd size", { volumeId: "big", sizeBytes: 1n << 62n }, "size_bytes"],
    ["no size for an empty volume", { volumeId: "zero", sizeBytes: 0n }, "size_bytes"],
    ["a size that is not whole sectors", { volumeId: "odd", sizeBytes: 1000n }, "size_bytes"],
    ["an image outside the storage roots", { volumeId: "img", sourceType: VolumeSourceType.VOLUME_SOURCE_IMAGE, sourceId: "/etc/shadow" }, "source_id"],
    ["a snapshot source without @", { volumeId: "s", sourceType: VolumeSourceType.VOLUME_SOURCE_SNAPSHOT, sourceId: "a" }, "source_id"],
  ])("CreateVolume refuses %s (INVALID_ARGUMENT naming %s)", async (_n, req, field) => {
    expect(await code(t.grpc.createVolume({ poolId: "default", ...req }))).toMatchObject({
      code: Code.InvalidArgument,
      message: expect.stringContaining(field),
    });
  });

  test("a pool or volume that does not exist is NOT_FOUND", async () => {
    expect(await code(t.grpc.listVolumes({ poolId: "nowhere" }))).toMatchObject({ code: Code.NotFound, message: expect.stringContaining("nowhere not found") });
    expect(await code(t.grpc.getVolumeAttachInfo({ poolId: "default", volumeId: "ghost" }))).toMatchObject({ code: Code.NotFound });
  });
});

describe("DestroyStoragePool", () => {
  test("refused while a VM has a disk in the pool (naming the VM); done once it is gone; default never", async () => {
    const poolId = "busy";
    await t.grpc.initStoragePool({ poolId, type: StoragePoolType.LOCAL_DIR });
    const vmId = newVmId();
    await t.grpc.createVM({ vmId, name: "pool-user", spec: { cpuCores: 1, memoryMib: 256n, disks: [{ id: "root", sizeGib: 1n, poolId }] } });
    const refused = await code(t.grpc.destroyStoragePool({ poolId }));
    expect(refused).toMatchObject({ code: Code.FailedPrecondition, message: expect.stringContaining("vm pool-user") });
    await t.grpc.deleteVM({ vmId, deleteDisks: true });
    expect(await t.grpc.destroyStoragePool({ poolId })).toMatchObject({ poolId });
    expect(await code(t.grpc.getStoragePoolInfo({ poolId }))).toMatchObject({ code: Code.NotFound });
    expect(await code(t.grpc.destroyStoragePool({ poolId: "default" }))).toMatchObject({ code: Code.FailedPrecondition });
  });
});

describe("ListImages", () => {
  test("images and ISOs of the image folders and pools, with stable md5 ids", async () => {
    const iso = join(t.config.storage.isoImages, "tools.iso");
    mkdirSync(t.config.storage.isoImages, { recursive: true });
    writeFileSync(iso, "iso");
    const images = (await t.grpc.listImages({})).images;
    const entry = images.find((i) => i.path === iso);
    expect(entry).toMatchObject({ name: "tools.iso", format: "iso", sizeBytes: 3n, imageId: new Bun.CryptoHasher("md5").update(iso).digest("hex") });
  });
});
