// VM disks in a Ceph RBD pool and in an iSCSI volume group, through a real gRPC client against
// an in-process dev daemon (mock backend, which follows libvirt's rule): CreateVM with pool_id
// makes raw volumes of the pool, ListVolumes shows them attached, DestroyStoragePool is refused
// naming the VM, ResizeVolume grows one, DeleteVM with delete_disks removes them.

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { StoragePoolType } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { newVmId, startTestDaemon, type TestDaemon } from "../support/daemon.ts";

let t: TestDaemon;
beforeAll(async () => {
  t = await startTestDaemon();
});
afterAll(() => t.stop());

test("CreateVM with pool_id of an RBD and an iSCSI/LVM pool: raw volumes there, in use, resized, deleted with the vm", async () => {
  await t.grpc.initStoragePool({
    poolId: "ceph-vms",
    type: StoragePoolType.CEPH_RBD,
    config: { ceph: { poolName: "vms", monitors: ["mon1"], user: "libvirt" } },
  });
  await t.grpc.initStoragePool({
    poolId: "san-vg",
    type: StoragePoolType.ISCSI,
    config: { iscsi: { portal: "san:3260", target: "iqn.2026-01.com.example:vms", volumeGroup: "vg_vms" } },
  });
  const vmId = newVmId();
  await t.grpc.createVM({
    vmId,
    name: "rbd-user",
    spec: {
      cpuCores: 1,
      memoryMib: 256n,
      disks: [
        { id: "root", sizeGib: 1n, poolId: "ceph-vms" },
        { id: "data", sizeGib: 1n, poolId: "san-vg" },
      ],
    },
  });
  const rbd = (await t.grpc.listVolumes({ poolId: "ceph-vms" })).volumes;
  expect(rbd.map((v) => [v.volumeId, v.path, v.attachedTo])).toEqual([[`${vmId}-root`, `vms/${vmId}-root`, vmId]]);
  const lvm = (await t.grpc.listVolumes({ poolId: "san-vg" })).volumes;
  expect(lvm.map((v) => [v.volumeId, v.path])).toEqual([[`${vmId}-data`, `/dev/vg_vms/${vmId}-data`]]);

  const refused = await t.grpc.destroyStoragePool({ poolId: "ceph-vms" }).then(
    () => "OK",
    (e) => ConnectError.from(e),
  );
  expect(refused).toMatchObject({ code: Code.FailedPrecondition, rawMessage: expect.stringContaining("vm rbd-user") });

  const grown = await t.grpc.resizeVolume({ poolId: "ceph-vms", volumeId: `${vmId}-root`, newSizeBytes: 2n << 30n });
  expect(grown.volume).toMatchObject({ sizeBytes: 2n << 30n, format: "raw", attachedTo: vmId });

  await t.grpc.deleteVM({ vmId, deleteDisks: true });
  expect((await t.grpc.listVolumes({ poolId: "ceph-vms" })).volumes).toEqual([]);
  expect((await t.grpc.listVolumes({ poolId: "san-vg" })).volumes).toEqual([]);
  expect(await t.grpc.destroyStoragePool({ poolId: "ceph-vms" })).toMatchObject({ poolId: "ceph-vms" });
});
