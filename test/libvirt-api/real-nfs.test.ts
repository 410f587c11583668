// NFS pools on the real tier through the daemon's API, against a real NFS export on loopback
// (nfs-ganesha, a user-space server: test/support/nfs-export.ts). libvirt's netfs pool mounts
// the export with the kernel's NFS client. Where the host has one: the pool, volumes created,
// resized, cloned and deleted, a VM running from a volume, `virsh pool-info`/`vol-info` agreeing,
// the pool kept across a daemon restart, and a file written into the export from outside seen by
// ListStoragePoolFiles. Where the kernel has no NFS client (some CI kernels: no CONFIG_NFS_FS and
// no modules), the daemon must say so at once instead of handing libvirt a mount that fails as
// "No such device" after its retries; that is what runs there, and the rest is skipped, saying why.

import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PowerState, StoragePoolType } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { nfsClientProblem, readNfsClientFacts } from "../../src/hypervisor/storage/nfs-client.ts";
import { REAL, realDomainType, URI, virsh, virshQuietly } from "../hypervisor/libvirt/real/helpers.ts";
import { GANESHA, listExport, type NfsExport, startNfsExport } from "../support/nfs-export.ts";
import { connectErrorOf, startLibvirtDaemon, type LibvirtTestDaemon } from "./helpers.ts";

const STEP_MS = 90_000;
const MiB = 1024 ** 2;
const run = crypto.randomUUID().slice(0, 8);
const poolId = crypto.randomUUID();
const vmId = crypto.randomUUID();
const HAVE_SERVER = existsSync(GANESHA);
const problem = nfsClientProblem(await readNfsClientFacts());

if (REAL && !HAVE_SERVER) console.warn(`NFS pool tests SKIPPED: ${GANESHA} missing (scripts/setup-libvirt.sh installs nfs-ganesha)`);
if (REAL && HAVE_SERVER && problem) console.warn(`NFS pools against the export SKIPPED on this host: ${problem}`);

const poolInfo = (id: string) =>
  Object.fromEntries(
    virsh("pool-info", id, "--bytes")
      .split("\n")
      .map((l) => l.split(/:\s+/).map((s) => s.trim()))
      .filter((kv) => kv.length === 2),
  ) as Record<string, string>;

const volInfo = (path: string) =>
  Object.fromEntries(
    virsh("vol-info", path, "--bytes")
      .split("\n")
      .map((l) => l.split(/:\s+/).map((s) => s.trim()))
      .filter((kv) => kv.length === 2),
  ) as Record<string, string>;

describe.skipIf(!REAL || !HAVE_SERVER)(`NFS pools on ${URI} against nfs-ganesha on loopback`, () => {
  let nfs: NfsExport;
  let t: LibvirtTestDaemon;
  const daemonPools: string[] = [];
  const startDaemon = async () => {
    const d = await startLibvirtDaemon({ uri: URI, domainType: realDomainType() });
    daemonPools.push(d.poolName);
    return d;
  };
  const request = () => ({
    poolId,
    type: StoragePoolType.NFS,
    config: { nfs: { server: nfs.server, exportPath: nfs.exportPath, version: "4", options: `port=${nfs.port},soft,timeo=50,retrans=2` } },
  });

  beforeAll(async () => {
    nfs = await startNfsExport(`lq-nfs-${run}`);
    writeFileSync(join(nfs.folder, "from-outside.txt"), "written on the server side\n");
    t = await startDaemon();
  }, STEP_MS);

  afterAll(async () => {
    virshQuietly(["destroy", vmId], ["undefine", vmId], ["pool-destroy", poolId], ["pool-undefine", poolId]);
    await t?.stop();
    // Each daemon defined its own default pool (named after its state folder).
    for (const name of daemonPools) virshQuietly(["pool-destroy", name], ["pool-undefine", name]);
    nfs?.stop();
  }, STEP_MS);

  test("the export answers a user-space NFS client (the fixture is a real NFSv4 server)", () => {
    expect(listExport(nfs)).toContain("from-outside.txt");
  });

  test.skipIf(!problem)(
    "a host without the kernel's NFS client: InitStoragePool is refused at once, naming what is missing, and nothing is defined",
    async () => {
      const err = await connectErrorOf(t.grpc.initStoragePool(request()));
      expect(err.code).toBe(Code.FailedPrecondition);
      expect(err.rawMessage).toContain(`NFS pool ${poolId}`);
      expect(err.rawMessage).toContain("no NFS client");
      expect(virsh("pool-list", "--all", "--name")).not.toContain(poolId);
      // The API stays usable: the next call is answered.
      expect((await t.grpc.listStoragePools({})).pools.some((p) => p.poolId === poolId)).toBe(false);
    },
    STEP_MS,
  );

  describe.skipIf(problem !== undefined)("with the kernel's NFS client", () => {
    let mountPath = "";

    test(
      "InitStoragePool mounts the export as a persistent, autostarted netfs pool; again is a no-op",
      async () => {
        const info = await t.grpc.initStoragePool(request());
        mountPath = info.mountPath;
        expect(info).toMatchObject({ poolId, type: StoragePoolType.NFS, active: true });
        const pi = poolInfo(poolId);
        expect(pi.State).toBe("running");
        expect(pi.Persistent).toBe("yes");
        expect(pi.Autostart).toBe("yes");
        expect(pi.UUID).toBe(poolId);
        expect(Number(pi.Capacity)).toBe(Number(info.totalBytes));
        expect(virsh("pool-dumpxml", poolId)).toContain(`<dir path='${nfs.exportPath}'/>`);
        expect((await t.grpc.initStoragePool(request())).mountPath).toBe(mountPath);
      },
      STEP_MS,
    );

    test(
      "ListStoragePoolFiles sees a file written into the export from outside",
      async () => {
        writeFileSync(join(nfs.folder, "late.txt"), "x".repeat(1234));
        const { entries } = await t.grpc.listStoragePoolFiles({ poolId });
        expect(entries.find((e) => e.name === "from-outside.txt")).toMatchObject({ isDirectory: false, path: "from-outside.txt" });
        expect(entries.find((e) => e.name === "late.txt")?.sizeBytes).toBe(1234n);
      },
      STEP_MS,
    );

    test(
      "volumes: created, resized, cloned and deleted, each figure as virsh vol-info says",
      async () => {
        const created = (await t.grpc.createVolume({ poolId, volumeId: `disk-${run}`, sizeBytes: BigInt(64 * MiB) })).volume!;
        expect(created.path.startsWith(`${mountPath}/`)).toBe(true);
        expect(Number(volInfo(created.path).Capacity)).toBe(64 * MiB);
        const grown = (await t.grpc.resizeVolume({ poolId, volumeId: `disk-${run}`, newSizeBytes: BigInt(128 * MiB) })).volume!;
        expect(Number(grown.sizeBytes)).toBe(128 * MiB);
        expect(Number(volInfo(created.path).Capacity)).toBe(128 * MiB);
        const clone = (await t.grpc.cloneVolume({ poolId, sourceVolumeId: `disk-${run}`, destVolumeId: `clone-${run}` })).volume!;
        expect(Number(volInfo(clone.path).Capacity)).toBe(128 * MiB);
        expect(existsSync(join(nfs.folder, clone.path.slice(mountPath.length + 1)))).toBe(true);
        await t.grpc.deleteVolume({ poolId, volumeId: `clone-${run}` });
        expect(existsSync(join(nfs.folder, clone.path.slice(mountPath.length + 1)))).toBe(false);
      },
      STEP_MS,
    );

    test(
      "a VM runs from a volume of the NFS pool",
      async () => {
        await t.grpc.createVM({
          vmId,
          name: `lq-nfs-vm-${run}`,
          spec: { cpuCores: 1, memoryMib: 64n, disks: [{ id: "root", path: `disk-${run}`, poolId }] },
        });
        await t.grpc.startVM({ vmId });
        expect((await t.grpc.getVMStatus({ vmId })).state).toBe(PowerState.RUNNING);
        expect(virsh("domblklist", vmId)).toContain(`${mountPath}/disk-${run}`);
        await t.grpc.forceStopVM({ vmId });
        await t.grpc.deleteVM({ vmId });
      },
      STEP_MS,
    );

    test(
      "the pool is still there, mounted, after the daemon restarts",
      async () => {
        await t.stop();
        t = await startDaemon();
        const info = await t.grpc.getStoragePoolInfo({ poolId });
        expect(info).toMatchObject({ poolId, active: true, mountPath });
        expect(poolInfo(poolId).State).toBe("running");
        await t.grpc.deleteVolume({ poolId, volumeId: `disk-${run}` });
        await t.grpc.destroyStoragePool({ poolId });
        expect(virsh("pool-list", "--all", "--name")).not.toContain(poolId);
      },
      STEP_MS,
    );
  });
});
