// The real tier for storage: pools, overlays, cloud-init, media and resizes on libvirtd with QEMU
// (qemu:///system), each step cross-checked with virsh and qemu-img. Runs in a fresh temporary
// folder with its own pool names. Needs `sudo bash scripts/setup-libvirt.sh` and
// LIMIQUANTIX_REAL_LIBVIRT=1.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildNoCloudIso } from "../../../../src/cloud-init/nocloud-iso.ts";
import { withDefaults } from "../../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import { cdromOfVm } from "../../../../src/hypervisor/storage/index.ts";
import type { Hypervisor, HypervisorEvent, VmSpec } from "../../../../src/hypervisor/types.ts";
import { eventually } from "../../contract.ts";
import { REAL, realCpuDisabledFeatures, realDomainType, realTierStorage, type RealTierStorage, URI, virsh, virshQuietly } from "./helpers.ts";

const STEP_MS = 90_000;
const MiB = 1024 * 1024;
/** A disk id no other VM on this libvirtd has: pool "default" + a disk id must name one disk. */
const dataId = `data-${crypto.randomUUID().slice(0, 8)}`;
const domainType = realDomainType();
const cpuDisabledFeatures = domainType === "kvm" ? realCpuDisabledFeatures() : [];

function qemuImgInfo(path: string): { "virtual-size": number; format: string; "backing-filename"?: string } {
  const r = Bun.spawnSync(["qemu-img", "info", "--output=json", "-U", path]);
  if (r.exitCode !== 0) throw new Error(`qemu-img info ${path}: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}

/** Target -> source of the domain's disks ("-" for an empty drive), live or persistent. */
function blockList(id: string, inactive = false): Record<string, string> {
  const out = virsh("domblklist", id, ...(inactive ? ["--inactive"] : []));
  return Object.fromEntries(
    out
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((p) => p.length === 2)
      .map(([t, s]) => [t, s]),
  );
}

function blockCapacity(id: string, target: string): number {
  const m = /Capacity:\s+(\d+)/.exec(virsh("domblkinfo", id, target));
  return Number(m?.[1]);
}

describe.skipIf(!REAL)(`real storage on ${URI} (domain type ${domainType})`, () => {
  // Made in beforeAll: a skipped tier leaves no folder behind.
  let store: RealTierStorage;
  let run = "";
  let poolPath = "";
  let cloud = "";
  let isos = "";
  const poolId = crypto.randomUUID();
  const id = crypto.randomUUID();
  const events: HypervisorEvent[] = [];
  let hv: Hypervisor;
  let spec: VmSpec;
  let rootPath = "";
  let dataPath = "";
  let cloudIso = "";

  const open = () =>
    createLibvirtHypervisor({
      uri: URI,
      storagePath: store.storagePath,
      consoleListen: "127.0.0.1",
      poolName: store.poolName,
      domainType,
      cpuDisabledFeatures,
      stopPollMs: 100,
      cloudImagesDir: cloud,
      isoImagesDir: isos,
    });

  beforeAll(async () => {
    store = realTierStorage("lq-rs-");
    run = store.root.slice(-6).toLowerCase();
    poolPath = join(store.root, "pools", poolId);
    cloud = join(store.root, "cloud");
    isos = join(store.root, "isos");
    mkdirSync(cloud, { recursive: true, mode: 0o755 });
    mkdirSync(isos, { recursive: true, mode: 0o755 });
    const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", join(cloud, `base-${run}.qcow2`), "64M"]);
    if (made.exitCode !== 0) throw new Error(`qemu-img create: ${made.stderr.toString()}`);
    writeFileSync(join(isos, `media-${run}.iso`), buildNoCloudIso([{ name: "hello.txt", content: "hello\n" }], { volumeId: "MEDIA" }), { mode: 0o644 });
    hv = await open();
    hv.onEvent((e) => events.push(e));
    spec = withDefaults({
      name: `real-storage-${id.slice(0, 8)}`,
      memoryMib: 256,
      cpu: domainType === "kvm" ? { sockets: 1, coresPerSocket: 1 } : { sockets: 1, coresPerSocket: 1, mode: "custom", model: "qemu64" },
      disks: [
        // An overlay in the custom pool on a cloud image named relative: smaller than its base.
        { id: "root", volume: `vm-root-${run}`, pool: poolId, newImage: { sizeBytes: 32 * MiB, backingPath: `base-${run}` }, bootOrder: 1 },
        { id: dataId, newImage: { sizeBytes: 64 * MiB } },
      ],
      console: { type: "vnc" },
    });
    spec.cloudInit = { userData: "#cloud-config\nhostname: real-storage\n", metaData: "", networkConfig: "", vendorData: "" };
  }, STEP_MS);

  afterAll(async () => {
    virshQuietly(["destroy", id], ["undefine", id, "--snapshots-metadata"], ["pool-destroy", poolId], ["pool-undefine", poolId]);
    await hv?.close();
    store?.remove();
  }, STEP_MS);

  test(
    "a dir pool is persistent, autostarted and running, with the id as its uuid",
    async () => {
      const info = await hv.initPool({ id: poolId, type: "dir", path: poolPath });
      expect(info).toMatchObject({ id: poolId, path: poolPath, active: true, volumeCount: 0 });
      const pi = virsh("pool-info", poolId);
      expect(pi).toMatch(/State:\s+running/);
      expect(pi).toMatch(/Persistent:\s+yes/);
      expect(pi).toMatch(/Autostart:\s+yes/);
      expect(pi).toMatch(new RegExp(`UUID:\\s+${poolId}`));
      expect(statSync(poolPath).isDirectory()).toBe(true);
      expect((await hv.initPool({ id: poolId, type: "dir", path: poolPath })).id).toBe(poolId);
    },
    STEP_MS,
  );

  test(
    "create: overlay in the custom pool at the base's size, a default-pool disk, the cloud-init ISO first, an empty drive",
    async () => {
      const { vm, created } = await hv.createVm(id, spec);
      expect(created).toBe(true);
      rootPath = vm.spec.disks.find((d) => d.id === "root")?.resolvedPath ?? "";
      dataPath = vm.spec.disks.find((d) => d.id === dataId)?.resolvedPath ?? "";
      cloudIso = vm.spec.disks.find((d) => d.id === "cloud-init")?.resolvedPath ?? "";
      expect(rootPath).toBe(join(poolPath, `vm-root-${run}.qcow2`));
      expect(dataPath).toBe(join(store.storagePath, `${id}-${dataId}.qcow2`));
      expect(cloudIso).toBe(join(store.storagePath, `${id}-cloud-init.iso`));
      const root = qemuImgInfo(rootPath);
      expect(root["virtual-size"]).toBe(64 * MiB);
      expect(root["backing-filename"]).toBe(join(cloud, `base-${run}.qcow2`));
      expect(vm.spec.disks.map((d) => [d.id, d.target])).toEqual([
        ["root", "vda"],
        [dataId, "vdb"],
        ["cloud-init", "sda"],
        ["cdrom-0", "sdb"],
      ]);
      expect(blockList(id, true)).toEqual({ vda: rootPath, vdb: dataPath, sda: cloudIso, sdb: "-" });
      expect(statSync(cloudIso).mode & 0o777).toBe(0o600);
      expect((await hv.createVm(id, spec)).created).toBe(false);
    },
    STEP_MS,
  );

  test(
    "an ISO inserted live (by the control plane's device name) and ejected with changeMedia",
    async () => {
      expect((await hv.startVm(id)).state).toBe("running");
      expect(blockList(id).sda).toBe(cloudIso);
      // 2 disks in the control plane's spec, first CD-ROM: "sd" + chr('a' + 2 + 0) = sdc; the
      // cloud-init drive is not counted, so it is the empty drive.
      const cd = cdromOfVm((await hv.getVm(id)).spec.disks, "sdc");
      expect(cd.id).toBe("cdrom-0");
      const iso = join(isos, `media-${run}.iso`);
      const inserted = await hv.changeMedia(id, cd.id, { volume: `iso/media-${run}.iso` });
      expect(inserted.spec.disks.find((d) => d.id === "cdrom-0")).toMatchObject({ volume: `iso/media-${run}.iso`, resolvedPath: iso });
      expect(blockList(id).sdb).toBe(iso);
      expect(blockList(id, true).sdb).toBe(iso);
      expect(virsh("dumpxml", id)).toContain(`<source file='${iso}'`);
      await eventually(() => (events.some((e) => e.type === "media_changed" && e.vmId === id && e.details?.path === iso) ? true : undefined), "media_changed");
      const ejected = await hv.changeMedia(id, "cdrom-0", {});
      expect(ejected.spec.disks.find((d) => d.id === "cdrom-0")?.resolvedPath).toBeUndefined();
      expect(blockList(id).sdb).toBe("-");
      expect(blockList(id, true).sdb).toBe("-");
      expect(blockList(id).sda).toBe(cloudIso);
    },
    STEP_MS,
  );

  test(
    "a live resize reaches the guest: domblkinfo shows the new capacity",
    async () => {
      const grown = await hv.resizeVolume(poolId, `vm-root-${run}`, 128 * MiB);
      expect(grown).toMatchObject({ poolId, path: rootPath, sizeBytes: 128 * MiB, attachedTo: id, format: "qcow2" });
      expect(blockCapacity(id, "vda")).toBe(128 * MiB);
      // Pool "default" with a disk id, as the control plane's ResizeDisk sends it.
      await hv.resizeVolume("default", dataId, 96 * MiB);
      expect(blockCapacity(id, "vdb")).toBe(96 * MiB);
      const shrink = await hv.resizeVolume("default", dataId, 64 * MiB).catch((e: unknown) => e);
      expect(shrink).toMatchObject({ kind: "invalid_argument" });
    },
    STEP_MS,
  );

  test(
    "a stopped vm's disk is resized through libvirt's volume resize",
    async () => {
      await hv.forceStopVm(id);
      const r = await hv.resizeVolume("default", dataId, 160 * MiB);
      expect(r).toMatchObject({ sizeBytes: 160 * MiB, attachedTo: id });
      expect(qemuImgInfo(dataPath)["virtual-size"]).toBe(160 * MiB);
    },
    STEP_MS,
  );

  test(
    "the pools are still defined after the backend is closed and reopened",
    async () => {
      await hv.close();
      expect(
        virsh("pool-list", "--all", "--name")
          .split("\n")
          .map((s) => s.trim()),
      ).toEqual(expect.arrayContaining([poolId, store.poolName]));
      hv = await open();
      expect(await hv.getPool(poolId)).toMatchObject({ id: poolId, path: poolPath, active: true });
      expect((await hv.getPool(poolId)).volumeCount).toBe(1);
      expect((await hv.listPools()).map((p) => p.id)).toEqual(expect.arrayContaining(["default", poolId]));
    },
    STEP_MS,
  );

  test(
    "delete with disks removes the images in both pools and the cloud-init ISO, never the base image",
    async () => {
      const { deletedDisks } = await hv.deleteVm(id, { deleteDisks: true, force: true });
      expect(deletedDisks.sort()).toEqual([dataPath, rootPath].sort());
      expect(existsSync(rootPath)).toBe(false);
      expect(existsSync(dataPath)).toBe(false);
      expect(existsSync(cloudIso)).toBe(false);
      expect(existsSync(join(cloud, `base-${run}.qcow2`))).toBe(true);
    },
    STEP_MS,
  );
});
