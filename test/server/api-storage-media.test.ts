// The storage and media RPCs as the control plane calls them (contract 1.2, 7.6-7.8), through
// real clients against an in-process dev daemon (mock backend): Connect's gRPC transport over
// HTTP/2 and plain HTTP+JSON (Connect protocol). ChangeMedia by the control plane's device
// arithmetic and by cdrom_id; storage pools, their files, volume resizes; and the error codes and
// texts the control plane matches.

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PowerState, StoragePoolType } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { newVmId, startTestDaemon, type TestDaemon } from "../support/daemon.ts";

const GIB = 1n << 30n;
let t: TestDaemon;
let storage: string;
let poolsDir: string;

beforeAll(async () => {
  t = await startTestDaemon();
  storage = t.config.hypervisor.storagePath;
  poolsDir = join(t.config.node.stateDir, "pools");
  mkdirSync(join(storage, "iso"), { recursive: true });
  writeFileSync(join(storage, "iso", "debian.iso"), "debian");
  writeFileSync(join(storage, "iso", "tools.iso"), "tools");
});
afterAll(() => t.stop());

type Failure = { code: Code; message: string };
async function failure(p: Promise<unknown>): Promise<Failure | "OK"> {
  try {
    await p;
    return "OK";
  } catch (err) {
    return { code: ConnectError.from(err).code, message: ConnectError.from(err).rawMessage };
  }
}

/** POSTs a Connect JSON request; answers the HTTP status and the parsed body. */
async function postJson(method: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A running VM with two disks and the given CD-ROMs, as the control plane creates one. */
async function runningVm(cdroms: { id: string; isoPath?: string }[], extra: Record<string, unknown> = {}): Promise<string> {
  const vmId = newVmId();
  await t.grpc.createVM({
    vmId,
    name: `media-${vmId.slice(0, 8)}`,
    spec: {
      cpuCores: 1,
      memoryMib: 512n,
      disks: [
        { id: "root", sizeGib: 1n },
        { id: "data", sizeGib: 1n },
      ],
      cdroms,
      ...extra,
    },
  });
  await t.grpc.startVM({ vmId });
  return vmId;
}

const cdromsOf = async (vmId: string) =>
  (await t.grpc.getVMStatus({ vmId })).spec!.cdroms.map((c) => ({ id: c.id, isoPath: c.isoPath, resolvedPath: c.resolvedPath }));

describe("ChangeMedia", () => {
  test("by device: 2 disks + CD-ROM index 0 is sdc; insert by absolute path, then eject", async () => {
    const vmId = await runningVm([{ id: "cd0" }]);
    const iso = join(storage, "iso", "debian.iso");
    const inserted = await t.grpc.changeMedia({ vmId, device: "sdc", isoPath: iso });
    expect(inserted.vm!.state).toBe(PowerState.RUNNING);
    expect(await cdromsOf(vmId)).toEqual([{ id: "cd0", isoPath: iso, resolvedPath: iso }]);
    await t.grpc.changeMedia({ vmId, device: "sdc", isoPath: "" });
    expect(await cdromsOf(vmId)).toEqual([{ id: "cd0", isoPath: "", resolvedPath: "" }]);
  });

  test("with the node's cloud-init CD-ROM first, the letter still means the first user CD-ROM", async () => {
    const vmId = await runningVm([{ id: "cd0" }, { id: "cd1" }], { cloudInit: { userData: "#cloud-config\n" } });
    const before = await cdromsOf(vmId);
    expect(before.map((c) => c.id)).toEqual(["cloud-init", "cd0", "cd1"]);
    const tools = join(storage, "iso", "tools.iso");
    await t.grpc.changeMedia({ vmId, device: "sdc", isoPath: join(storage, "iso", "debian.iso") });
    await t.grpc.changeMedia({ vmId, device: "sdd", isoPath: tools });
    const after = await cdromsOf(vmId);
    expect(after[0]).toEqual(before[0]!); // the cloud-init drive is never touched
    expect(after.slice(1).map((c) => [c.id, c.resolvedPath])).toEqual([
      ["cd0", join(storage, "iso", "debian.iso")],
      ["cd1", tools],
    ]);

    const beyond = await failure(t.grpc.changeMedia({ vmId, device: "sde", isoPath: tools }));
    expect(beyond).toMatchObject({ code: Code.NotFound });
    expect((beyond as Failure).message).toContain("cd0, cd1");
    expect((beyond as Failure).message).toContain("the cloud-init drive is not counted");
    // A disk's letter is no CD-ROM either.
    expect(await failure(t.grpc.changeMedia({ vmId, device: "sdb", isoPath: tools }))).toMatchObject({ code: Code.NotFound });
    expect(await failure(t.grpc.changeMedia({ vmId, device: "vdc", isoPath: tools }))).toMatchObject({ code: Code.InvalidArgument });
  });

  test("by cdrom_id; an ISO named relative to a pool; ISOs outside the storage roots refused", async () => {
    const pool = await t.grpc.initStoragePool({ poolId: "iso-pool", type: StoragePoolType.LOCAL_DIR });
    mkdirSync(join(pool.mountPath, "iso"), { recursive: true });
    writeFileSync(join(pool.mountPath, "iso", "virtio-win.iso"), "drivers");
    const vmId = await runningVm([{ id: "cd0" }, { id: "drivers" }]);

    await t.grpc.changeMedia({ vmId, cdromId: "drivers", isoPath: "iso/virtio-win.iso" });
    expect((await cdromsOf(vmId))[1]).toEqual({ id: "drivers", isoPath: "iso/virtio-win.iso", resolvedPath: join(pool.mountPath, "iso", "virtio-win.iso") });

    const outside = await failure(t.grpc.changeMedia({ vmId, cdromId: "cd0", isoPath: "/etc/hostname" }));
    expect(outside).toMatchObject({ code: Code.InvalidArgument });
    expect((outside as Failure).message).toStartWith("iso_path: must be inside the storage roots");
    expect(await failure(t.grpc.changeMedia({ vmId, cdromId: "cd0", isoPath: join(storage, "iso", "../../../etc/hostname") }))).toMatchObject({
      code: Code.InvalidArgument,
    });
    expect(await failure(t.grpc.changeMedia({ vmId, cdromId: "cd0", isoPath: join(storage, "iso", "missing.iso") }))).toMatchObject({ code: Code.NotFound });
    expect(await failure(t.grpc.changeMedia({ vmId, cdromId: "cd0", isoPath: "iso/missing.iso" }))).toMatchObject({ code: Code.NotFound });
    expect(await failure(t.grpc.changeMedia({ vmId, cdromId: "cd9", isoPath: "" }))).toMatchObject({ code: Code.NotFound });
    expect(await failure(t.grpc.changeMedia({ vmId, cdromId: "root", isoPath: "" }))).toMatchObject({ code: Code.NotFound });
    // Nothing refused changed anything.
    expect((await cdromsOf(vmId))[0]).toEqual({ id: "cd0", isoPath: "", resolvedPath: "" });
  });

  test("over plain HTTP+JSON, as curl would send it", async () => {
    const vmId = await runningVm([{ id: "cd0" }]);
    const iso = join(storage, "iso", "tools.iso");
    const ok = await postJson("ChangeMedia", { vmId, device: "sdc", isoPath: iso });
    expect(ok.status).toBe(200);
    const vm = ok.body.vm as { state: string; spec: { cdroms: { id: string; resolvedPath: string }[] } };
    expect(vm.state).toBe("POWER_STATE_RUNNING");
    expect(vm.spec.cdroms).toEqual([expect.objectContaining({ id: "cd0", resolvedPath: iso })]);
    const unknown = await postJson("ChangeMedia", { vmId, device: "sdz" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe("not_found");
  });
});

describe("storage pools", () => {
  test("InitStoragePool LOCAL_DIR: created, re-initialised at the same path, refused at another", async () => {
    const path = join(t.config.node.stateDir, "explicit", "ssd");
    const req = { poolId: "3a9d4c1e-7f2b-4c8a-b6e5-0d1f2e3c4b5a", type: StoragePoolType.LOCAL_DIR, config: { local: { path } } };
    const first = await t.grpc.initStoragePool(req);
    expect(first).toMatchObject({
      poolId: req.poolId,
      type: StoragePoolType.LOCAL_DIR,
      mountPath: path,
      devicePath: "",
      rbdPool: "",
      volumeCount: 0,
      active: true,
    });
    expect(first.totalBytes).toBeGreaterThan(0n);
    expect(first.availableBytes).toBeGreaterThan(0n);
    expect(first.usedBytes + first.availableBytes).toBeLessThanOrEqual(first.totalBytes);

    const again = await t.grpc.initStoragePool(req);
    expect([again.poolId, again.mountPath]).toEqual([req.poolId, path]);

    const moved = await failure(t.grpc.initStoragePool({ ...req, config: { local: { path: join(t.config.node.stateDir, "elsewhere") } } }));
    expect(moved).toMatchObject({ code: Code.AlreadyExists });
    // The control plane's sync counts "already" / "exists" in the text as success.
    expect((moved as Failure).message).toContain("already exists");
  });

  test("a LOCAL_DIR pool that names no path lives in the node's pools folder", async () => {
    const pool = await t.grpc.initStoragePool({ poolId: "no-path", type: StoragePoolType.LOCAL_DIR, config: {} });
    expect(pool.mountPath).toBe(join(poolsDir, "no-path"));
  });

  test.each([
    // Each type reads its own sub-message (the config here has only nfs).
    [StoragePoolType.CEPH_RBD, Code.InvalidArgument, /^config\.ceph: is required for a Ceph RBD pool/],
    [StoragePoolType.ISCSI, Code.InvalidArgument, /^config\.iscsi: is required for an iSCSI pool/],
    [StoragePoolType.UNSPECIFIED, Code.InvalidArgument, /^type: Invalid pool type UNSPECIFIED/],
    [StoragePoolType.LOCAL_LVM, Code.InvalidArgument, /^type: Invalid pool type LOCAL_LVM/],
    [StoragePoolType.CEPH_FS, Code.InvalidArgument, /^type: Invalid pool type CEPH_FS/],
  ])("InitStoragePool of type %d: %s", async (type, code, message) => {
    const answer = await failure(t.grpc.initStoragePool({ poolId: `typed-${type}`, type, config: { nfs: { server: "nas", exportPath: "/export" } } }));
    expect(answer).toMatchObject({ code });
    expect((answer as Failure).message).toMatch(message);
    expect(await failure(t.grpc.getStoragePoolInfo({ poolId: `typed-${type}` }))).toMatchObject({ code: Code.NotFound });
  });

  test('GetStoragePoolInfo and ListStoragePools; "default" is the node\'s own storage', async () => {
    const made = await t.grpc.initStoragePool({ poolId: "listed", type: StoragePoolType.LOCAL_DIR });
    expect(await t.grpc.getStoragePoolInfo({ poolId: "listed" })).toMatchObject({
      poolId: "listed",
      mountPath: made.mountPath,
      type: StoragePoolType.LOCAL_DIR,
    });
    const dflt = await t.grpc.getStoragePoolInfo({ poolId: "default" });
    expect([dflt.type, dflt.mountPath]).toEqual([StoragePoolType.LOCAL_DIR, storage]);
    const pools = (await t.grpc.listStoragePools({})).pools.map((p) => p.poolId);
    expect(pools).toEqual(expect.arrayContaining(["default", "listed"]));
    const missing = await failure(t.grpc.getStoragePoolInfo({ poolId: "never-made" }));
    expect(missing).toMatchObject({ code: Code.NotFound });
    expect((missing as Failure).message).toContain("not found");
  });
});

describe("ListStoragePoolFiles", () => {
  let root: string;
  beforeAll(async () => {
    root = (await t.grpc.initStoragePool({ poolId: "files", type: StoragePoolType.LOCAL_DIR })).mountPath;
    mkdirSync(join(root, "iso"), { recursive: true });
    mkdirSync(join(root, "Images"), { recursive: true });
    writeFileSync(join(root, "iso", "debian-12.7.0-amd64-netinst.iso"), "x".repeat(100));
    writeFileSync(join(root, "iso", "README"), "");
    writeFileSync(join(root, "notes.txt"), "n");
  });

  test('the control plane\'s ISO scan: path "iso", entries relative to the pool root', async () => {
    const res = await t.grpc.listStoragePoolFiles({ poolId: "files", path: "iso" });
    expect(res.currentPath).toBe("iso");
    expect(res.entries.map((e) => [e.name, e.path, e.isDirectory, e.sizeBytes, e.fileType, e.permissions])).toEqual([
      ["debian-12.7.0-amd64-netinst.iso", "iso/debian-12.7.0-amd64-netinst.iso", false, 100n, "iso", "644"],
      ["README", "iso/README", false, 0n, "readme", "644"],
    ]);
    for (const e of res.entries) expect(e.modifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("the pool root, directories first, over HTTP+JSON", async () => {
    const res = await postJson("ListStoragePoolFiles", { poolId: "files" });
    expect(res.status).toBe(200);
    const entries = res.body.entries as { name: string; isDirectory?: boolean; sizeBytes?: string }[];
    expect(entries.map((e) => [e.name, e.isDirectory ?? false])).toEqual([
      ["Images", true],
      ["iso", true],
      ["notes.txt", false],
    ]);
    expect(entries[2]!.sizeBytes).toBe("1"); // uint64 as a JSON string
  });

  test('a missing path and an unknown pool are NOT_FOUND (the control plane re-initialises on "not found")', async () => {
    const path = await failure(t.grpc.listStoragePoolFiles({ poolId: "files", path: "iso/none" }));
    expect(path).toMatchObject({ code: Code.NotFound });
    const pool = await failure(t.grpc.listStoragePoolFiles({ poolId: "unknown-pool", path: "iso" }));
    expect(pool).toMatchObject({ code: Code.NotFound });
    expect((pool as Failure).message).toContain("not found");
    const json = await postJson("ListStoragePoolFiles", { poolId: "unknown-pool" });
    expect([json.status, json.body.code]).toEqual([404, "not_found"]);
  });

  test("a pool whose directory is gone is FAILED_PRECONDITION; path escapes are INVALID_ARGUMENT", async () => {
    const gone = await t.grpc.initStoragePool({ poolId: "gone", type: StoragePoolType.LOCAL_DIR });
    rmSync(gone.mountPath, { recursive: true, force: true });
    expect(await failure(t.grpc.listStoragePoolFiles({ poolId: "gone" }))).toMatchObject({ code: Code.FailedPrecondition });
    expect(await failure(t.grpc.listStoragePoolFiles({ poolId: "files", path: "../.." }))).toMatchObject({ code: Code.InvalidArgument });
    expect(await failure(t.grpc.listStoragePoolFiles({ poolId: "files", path: "/etc" }))).toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("ResizeVolume", () => {
  test('pool "default" and a disk id: the disk\'s image, wherever its pool is; volumes only grow', async () => {
    const pool = await t.grpc.initStoragePool({ poolId: "fast", type: StoragePoolType.LOCAL_DIR });
    const vmId = newVmId();
    await t.grpc.createVM({
      vmId,
      name: `resize-${vmId.slice(0, 8)}`,
      spec: {
        cpuCores: 1,
        memoryMib: 512n,
        disks: [
          { id: "os-7", sizeGib: 1n },
          { id: "scratch-7", sizeGib: 2n, poolId: "fast" },
        ],
      },
    });

    const grown = await t.grpc.resizeVolume({ poolId: "default", volumeId: "scratch-7", newSizeBytes: 4n * GIB });
    expect(grown.volume).toMatchObject({ sizeBytes: 4n * GIB, format: "qcow2", attachedTo: vmId });
    expect(grown.volume!.path).toStartWith(`${pool.mountPath}/`);
    // The same size again changes nothing and is no error.
    expect((await t.grpc.resizeVolume({ poolId: "default", volumeId: "scratch-7", newSizeBytes: 4n * GIB })).volume!.sizeBytes).toBe(4n * GIB);
    // The empty pool id is the node's own storage too.
    const os = await t.grpc.resizeVolume({ poolId: "", volumeId: "os-7", newSizeBytes: 2n * GIB });
    expect(os.volume).toMatchObject({ sizeBytes: 2n * GIB, attachedTo: vmId });
    expect(os.volume!.path).toStartWith(`${storage}/`);

    const shrink = await failure(t.grpc.resizeVolume({ poolId: "default", volumeId: "scratch-7", newSizeBytes: 3n * GIB }));
    expect(shrink).toMatchObject({ code: Code.InvalidArgument });
    expect((shrink as Failure).message).toMatch(/^new_size_bytes: .*volumes only grow/);
    const unknown = await failure(t.grpc.resizeVolume({ poolId: "default", volumeId: "no-such-disk", newSizeBytes: 4n * GIB }));
    expect(unknown).toMatchObject({ code: Code.NotFound });
    expect((unknown as Failure).message).toContain("not found");
    expect(await failure(t.grpc.resizeVolume({ poolId: "nope", volumeId: "root", newSizeBytes: 4n * GIB }))).toMatchObject({ code: Code.NotFound });
  });

  test("a volume named by its file in its own pool", async () => {
    await t.grpc.initStoragePool({ poolId: "by-file", type: StoragePoolType.LOCAL_DIR });
    const vmId = newVmId();
    await t.grpc.createVM({
      vmId,
      name: `byfile-${vmId.slice(0, 8)}`,
      spec: { cpuCores: 1, memoryMib: 512n, disks: [{ id: "d", path: "vol-9", sizeGib: 1n, poolId: "by-file" }] },
    });
    const res = await t.grpc.resizeVolume({ poolId: "by-file", volumeId: "vol-9", newSizeBytes: 2n * GIB });
    expect(res.volume).toMatchObject({ volumeId: "vol-9.qcow2", poolId: "by-file", sizeBytes: 2n * GIB, attachedTo: vmId });
  });

  test("a disk id two VMs use is refused rather than guessed", async () => {
    for (const i of [1, 2]) {
      await t.grpc.createVM({ vmId: newVmId(), name: `twin-disk-${i}`, spec: { cpuCores: 1, memoryMib: 512n, disks: [{ id: "twin-disk", sizeGib: 1n }] } });
    }
    const answer = await failure(t.grpc.resizeVolume({ poolId: "default", volumeId: "twin-disk", newSizeBytes: 2n * GIB }));
    expect(answer).toMatchObject({ code: Code.FailedPrecondition });
    expect((answer as Failure).message).toContain("several VMs");
  });
});

describe("error texts the control plane matches", () => {
  const id = newVmId();
  test.each([
    ["GetVMStatus of a gone VM", () => t.grpc.getVMStatus({ vmId: id }), Code.NotFound, ["VM not found", "not found"]],
    ["StopVM of a gone VM", () => t.grpc.stopVM({ vmId: id, timeoutSeconds: 30 }), Code.NotFound, ["VM not found"]],
    ["ForceStopVM of a gone VM", () => t.grpc.forceStopVM({ vmId: id }), Code.NotFound, ["VM not found"]],
    ["GetConsole of a gone VM", () => t.grpc.getConsole({ vmId: id }), Code.NotFound, ["VM not found"]],
    ["ListStoragePoolFiles of an unknown pool", () => t.grpc.listStoragePoolFiles({ poolId: "x9", path: "iso" }), Code.NotFound, ["not found"]],
  ] as const)("%s", async (_name, call, code, texts) => {
    const answer = (await failure(call())) as Failure;
    expect(answer.code).toBe(code);
    for (const text of texts) expect(answer.message).toContain(text);
  });

  test("the same over HTTP+JSON", async () => {
    const res = await postJson("GetVMStatus", { vmId: id });
    expect(res).toEqual({ status: 404, body: { code: "not_found", message: `VM not found: ${id} is not defined on this node` } });
  });
});
