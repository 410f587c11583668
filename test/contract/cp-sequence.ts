// The control plane's ordinary call sequence against a running daemon, sent as raw gRPC frames
// with the control plane's own request bytes (contract 1.2 and test/fixtures/cp-wire). The mock
// tier and the real QEMU tier both run it; the real tier hooks in `virsh` checks after each step.

import { expect } from "bun:test";
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import {
  ChangeMediaRequestSchema,
  ConsoleInfoResponseSchema,
  CreateVMOnNodeRequestSchema,
  CreateVMOnNodeResponseSchema,
  DeleteSnapshotRequestSchema,
  DetachNICRequestSchema,
  InitStoragePoolRequestSchema,
  ListSnapshotsResponseSchema,
  ListStoragePoolFilesResponseSchema,
  PowerState,
  SnapshotResponseSchema,
  StoragePoolInfoResponseSchema,
  VMStatusResponseSchema,
  type VMStatusResponse,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { RawGrpcClient, RawGrpcReply } from "../support/raw-grpc.ts";
import { bytesOf, rewritten, vector } from "./cp-vectors.ts";

export const VM_ID = "6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20";
export const CLONE_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
export const POOL_ID = "3a9d4c1e-7f2b-4c8a-b6e5-0d1f2e3c4b5a";
export const NETINST_ISO = "debian-12.7.0-amd64-netinst.iso";

const Code = { OK: 0, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5 } as const;

/**
 * The control plane's NFS, Ceph RBD and iSCSI pool vectors. Their servers are 10.x addresses,
 * which no test may reach: a backend that dials them (libvirt probes before it mounts) gets them
 * rewritten to a closed loopback port and must answer UNAVAILABLE naming the endpoint.
 */
export async function replayNetworkPools(client: RawGrpcClient, closedPort: number | undefined): Promise<void> {
  for (const note of ["NFS", "CEPH_RBD", "ISCSI"]) {
    const v = vector("InitStoragePool", note);
    const request =
      closedPort === undefined
        ? bytesOf(v)
        : rewritten(v, InitStoragePoolRequestSchema, (m) => {
            const c = m.config!;
            if (c.nfs) c.nfs.server = "127.0.0.1";
            if (c.ceph) c.ceph.monitors = [`127.0.0.1:${closedPort}`];
            if (c.iscsi) c.iscsi.portal = `127.0.0.1:${closedPort}`;
          });
    const reply = await client.call("InitStoragePool", request);
    if (closedPort === undefined) {
      ok(reply, `InitStoragePool ${note}`);
    } else {
      expect({ note, status: reply.status, names: reply.message.includes("127.0.0.1") }).toEqual({ note, status: 14, names: true });
    }
  }
}

export interface SequenceHooks {
  afterCreate?(status: VMStatusResponse): Promise<void>;
  afterStart?(status: VMStatusResponse): Promise<void>;
  afterConsole?(host: string, port: number): Promise<void>;
  afterMediaInserted?(status: VMStatusResponse, iso: string): Promise<void>;
  afterMediaEjected?(status: VMStatusResponse): Promise<void>;
  afterDiskAttached?(status: VMStatusResponse): Promise<void>;
  afterResize?(status: VMStatusResponse, bytes: bigint): Promise<void>;
  afterDelete?(): Promise<void>;
}

export interface SequenceTarget {
  client: RawGrpcClient;
  /** Directory of the LOCAL_DIR pool (the vector's path is rewritten to it). */
  poolDir: string;
  /** A qcow2 cloud image for the root disk's backing file (the vector's path is rewritten). */
  cloudImage: string;
  /** The console host the control plane must be told (the node's management address). */
  managementHost: string;
  /** A guest with no OS ignores ACPI: a graceful stop then ends in DEADLINE_EXCEEDED. */
  guestAnswersAcpi: boolean;
  /** A guest with no OS never releases a hot-plugged device: detaching is left out. */
  guestReleasesDevices: boolean;
  hooks?: SequenceHooks;
}

function ok(reply: RawGrpcReply, what: string): Uint8Array {
  expect({ what, status: reply.status, message: reply.message }).toEqual({ what, status: Code.OK, message: "" });
  return reply.body;
}

const vmIdRequest = bytesOf(vector("StartVM"));

async function status(t: SequenceTarget): Promise<VMStatusResponse> {
  return fromBinary(VMStatusResponseSchema, ok(await t.client.call("GetVMStatus", vmIdRequest), "GetVMStatus"));
}

export async function replayControlPlaneSequence(t: SequenceTarget): Promise<void> {
  const { client, hooks = {} } = t;

  // Pool sync, as on every new connection; a second init of the same pool succeeds.
  const initLocal = rewritten(vector("InitStoragePool", "LOCAL_DIR"), InitStoragePoolRequestSchema, (m) => {
    m.config!.local!.path = t.poolDir;
  });
  for (const attempt of ["first", "again"]) {
    const pool = fromBinary(StoragePoolInfoResponseSchema, ok(await client.call("InitStoragePool", initLocal), `InitStoragePool ${attempt}`));
    expect(pool.poolId).toBe(POOL_ID);
    expect(pool.mountPath).toBe(t.poolDir);
    expect(pool.totalBytes).toBeGreaterThan(0n);
    expect(pool.usedBytes + pool.availableBytes).toBeLessThanOrEqual(pool.totalBytes);
  }

  // ISO scan: the control plane lists "iso" and keeps the *.iso files.
  const files = fromBinary(
    ListStoragePoolFilesResponseSchema,
    ok(await client.call("ListStoragePoolFiles", bytesOf(vector("ListStoragePoolFiles"))), "ListStoragePoolFiles"),
  );
  expect(files.currentPath).toBe("iso");
  const netinst = files.entries.find((e) => e.name === NETINST_ISO);
  expect(netinst).toMatchObject({ path: `iso/${NETINST_ISO}`, isDirectory: false, fileType: "iso", permissions: "644" });
  expect(netinst!.modifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // CreateVM as convertToNodeDaemonCreateRequest sends it (cloud-init, a CD-ROM by relative path,
  // bus 3 and NIC model 2 cast raw from the compute API); a retry is idempotent.
  const createVm = rewritten(vector("CreateVM", "convertToNodeDaemonCreateRequest"), CreateVMOnNodeRequestSchema, (m) => {
    m.spec!.disks[0]!.backingFile = t.cloudImage;
  });
  const created = fromBinary(CreateVMOnNodeResponseSchema, ok(await client.call("CreateVM", createVm), "CreateVM"));
  expect(created).toMatchObject({ vmId: VM_ID, created: true });
  const again = fromBinary(CreateVMOnNodeResponseSchema, ok(await client.call("CreateVM", createVm), "CreateVM again"));
  expect(again).toMatchObject({ vmId: VM_ID, created: false });
  const defined = await status(t);
  expect(defined.state).toBe(PowerState.STOPPED);
  expect(defined.spec!.cdroms.map((c) => c.id)).toEqual(["cloud-init", "cd0"]);
  expect(defined.spec!.cdroms[1]!.resolvedPath).toBe(`${t.poolDir}/iso/${NETINST_ISO}`);
  await hooks.afterCreate?.(defined);

  ok(await client.call("StartVM", vmIdRequest), "StartVM");
  // Starting a running VM is no error (the control plane would record it as stopped).
  ok(await client.call("StartVM", vmIdRequest), "StartVM again");
  const running = await status(t);
  expect(running.state).toBe(PowerState.RUNNING);
  await hooks.afterStart?.(running);

  const console = fromBinary(ConsoleInfoResponseSchema, ok(await client.call("GetConsole", vmIdRequest), "GetConsole"));
  expect(console.type).toBe("vnc");
  expect(console.host).toBe(t.managementHost);
  expect(console.port).toBeGreaterThan(0);
  await hooks.afterConsole?.(console.host, console.port);

  // MountISO: device "sdc" = 2 disks + CD-ROM 0 in the control plane's count (cloud-init not counted).
  const toolsIso = `${t.poolDir}/iso/tools.iso`;
  const mount = rewritten(vector("ChangeMedia", "mount"), ChangeMediaRequestSchema, (m) => {
    m.isoPath = toolsIso;
  });
  ok(await client.call("ChangeMedia", mount), "ChangeMedia mount");
  const mounted = await status(t);
  expect(mounted.spec!.cdroms.find((c) => c.id === "cd0")?.resolvedPath).toBe(toolsIso);
  await hooks.afterMediaInserted?.(mounted, toolsIso);
  ok(await client.call("ChangeMedia", bytesOf(vector("ChangeMedia", "eject"))), "ChangeMedia eject");
  const ejected = await status(t);
  expect(ejected.spec!.cdroms.find((c) => c.id === "cd0")?.resolvedPath).toBe("");
  await hooks.afterMediaEjected?.(ejected);

  // Hot-plug: a SATA disk (attached on virtio: SATA has no hot-plug) and a NIC.
  ok(await client.call("AttachDisk", bytesOf(vector("AttachDisk"))), "AttachDisk");
  const withDisk = await status(t);
  const attached = withDisk.spec!.disks.find((d) => d.id === "disk-1764892800123456789");
  expect(attached?.sizeGib).toBe(10n);
  await hooks.afterDiskAttached?.(withDisk);
  ok(await client.call("AttachNIC", bytesOf(vector("AttachNIC"))), "AttachNIC");
  expect((await status(t)).spec!.nics.find((n) => n.id === "nic-1764892800123456789")?.macAddress).toBe("52:54:00:ab:cd:ef");
  if (t.guestReleasesDevices) {
    ok(await client.call("DetachDisk", bytesOf(vector("DetachDisk"))), "DetachDisk");
    const detachNic = toBinary(DetachNICRequestSchema, create(DetachNICRequestSchema, { vmId: VM_ID, nicId: "nic-1764892800123456789" }));
    ok(await client.call("DetachNIC", detachNic), "DetachNIC");
  }

  // ResizeDisk: pool "default" and the disk's id, whatever pool the disk lives in.
  ok(await client.call("ResizeVolume", bytesOf(vector("ResizeVolume"))), "ResizeVolume");
  await hooks.afterResize?.(await status(t), 42949672960n);

  // Snapshots, quiesce asked for as the control plane passes it through.
  const snap = fromBinary(SnapshotResponseSchema, ok(await client.call("CreateSnapshot", bytesOf(vector("CreateSnapshot", "", "request"))), "CreateSnapshot"));
  expect(snap).toMatchObject({ snapshotId: "before-upgrade", name: "before-upgrade", description: "pre apt upgrade", parentId: "" });
  const list = fromBinary(ListSnapshotsResponseSchema, ok(await client.call("ListSnapshots", vmIdRequest), "ListSnapshots"));
  expect(list.snapshots.map((s) => s.snapshotId)).toContain("before-upgrade");
  ok(await client.call("RevertSnapshot", bytesOf(vector("RevertSnapshot"))), "RevertSnapshot");
  const deleteSnap = toBinary(DeleteSnapshotRequestSchema, create(DeleteSnapshotRequestSchema, { vmId: VM_ID, snapshotId: "before-upgrade" }));
  ok(await client.call("DeleteSnapshot", deleteSnap), "DeleteSnapshot");

  // Clone on the source node: the clone's disk is an overlay whose backing file is the source
  // disk's volume id.
  ok(await client.call("CreateVM", bytesOf(vector("CreateVM", "buildCloneVMRequest"))), "CreateVM clone");

  // Graceful stop with the control plane's 30 s, then force stop (idempotent once stopped).
  const stop = await client.call("StopVM", bytesOf(vector("StopVM")), { timeoutMs: 90_000 });
  if (t.guestAnswersAcpi) ok(stop, "StopVM");
  else expect({ status: stop.status, acpi: /ACPI/.test(stop.message) }).toEqual({ status: Code.DEADLINE_EXCEEDED, acpi: true });
  ok(await client.call("ForceStopVM", vmIdRequest), "ForceStopVM");
  expect((await status(t)).state).toBe(PowerState.STOPPED);

  for (const id of [VM_ID, CLONE_ID]) {
    const req = toBinary(CreateVMOnNodeRequestSchema, create(CreateVMOnNodeRequestSchema, { vmId: id }));
    ok(await client.call("DeleteVM", req), `DeleteVM ${id}`);
  }
  const gone = await client.call("GetVMStatus", vmIdRequest);
  // The control plane reads "VM not found" in the text to learn the VM is gone.
  expect({ status: gone.status, text: gone.message.includes("VM not found") }).toEqual({ status: Code.NOT_FOUND, text: true });
  await hooks.afterDelete?.();
}
