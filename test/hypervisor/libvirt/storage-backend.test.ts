import { cloudInitDigest } from "../../../src/hypervisor/defaults.ts";
// The libvirt backend's pools, volumes, disk placement, node CD-ROMs and cloud-init ISO over the
// test:///default driver. That driver keeps no files, cannot resize volumes and cannot update
// devices: where it says so the backend must report it, and the real tier covers the rest.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withDefaults, type VmSpecInput } from "../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../src/hypervisor/libvirt/index.ts";
import * as ffi from "../../../src/hypervisor/libvirt/ffi/index.ts";
import type { Hypervisor, VmSpec } from "../../../src/hypervisor/types.ts";
import { expectKind } from "../contract.ts";

const root = mkdtempSync(join(tmpdir(), "lq-storage-backend-"));
const storage = join(root, "vms");
const run = crypto.randomUUID().slice(0, 8);
const OWN = `lq-sb-${run}`;
const warnings: string[] = [];
const log = { info() {}, debug() {}, error() {}, warn: (m: unknown) => void warnings.push(String(m)) };
let hv: Hypervisor;
let n = 0;

const open = () =>
  createLibvirtHypervisor({
    uri: "test:///default",
    storagePath: storage,
    consoleListen: "127.0.0.1",
    poolName: OWN,
    poolSize: 2,
    log,
    cloudImagesDir: join(root, "cloud"),
    isoImagesDir: join(root, "isos"),
  });

function spec(input: Partial<VmSpecInput> = {}): VmSpec {
  return withDefaults({ name: `sb-${run}-${++n}`, memoryMib: 128, disks: [{ id: "root", newImage: { sizeBytes: 1 << 20 }, bootOrder: 1 }], ...input });
}

/** A qcow2 file made by qemu-img, or a header-only stand-in when qemu-img is missing. */
function qcow2(path: string, bytes: number): void {
  if (Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", path, String(bytes)]).exitCode === 0) return;
  const h = new Uint8Array(32);
  h.set([0x51, 0x46, 0x49, 0xfb]);
  new DataView(h.buffer).setUint32(4, 3, false);
  new DataView(h.buffer).setBigUint64(24, BigInt(bytes), false);
  writeFileSync(path, h);
}

// test:///default frees its objects when its last connection closes: this one keeps them while
// the backend is closed and reopened (persistence across libvirtd restarts is the real tier's).
let keeper: ffi.Connection;

beforeAll(async () => {
  keeper = ffi.openConnection(ffi.loadLibvirt(), "test:///default");
  mkdirSync(join(root, "cloud"), { recursive: true });
  mkdirSync(join(root, "isos"), { recursive: true });
  hv = await open();
});
afterAll(async () => {
  await hv.close();
  const lv = ffi.loadLibvirt();
  const c = ffi.openConnection(lv, "test:///default");
  try {
    ffi.forEachPool(c, 0, (p) => {
      const name = ffi.poolName(c, p);
      if (name === OWN || name.startsWith(`sb${run}`) || name === "default") {
        if (ffi.poolIsActive(c, p)) ffi.stopPool(c, p);
        ffi.undefinePool(c, p);
      }
    });
  } finally {
    ffi.closeConnection(c);
    ffi.closeConnection(keeper);
  }
  rmSync(root, { recursive: true, force: true });
});

describe("pools", () => {
  const fast = `sb${run}-fast`;

  test("the node's own storage is pool default, made at start", async () => {
    const info = await hv.getPool("default");
    expect(info).toMatchObject({ id: "default", type: "dir", path: storage, active: true });
    expect(info.totalBytes).toBeGreaterThan(0);
    expect(info.usedBytes).toBe(info.totalBytes - info.availableBytes);
    expect((await hv.initPool({ id: "default", type: "dir", path: storage })).id).toBe("default");
    const moved = await expectKind(hv.initPool({ id: "default", type: "dir", path: "/srv/elsewhere" }), "already_exists");
    expect(moved.message).toContain(storage);
  });

  test("initPool defines, then adopts; another path is already_exists naming both", async () => {
    const path = join(root, "fast");
    const info = await hv.initPool({ id: fast, type: "dir", path, capacityBytes: 10 * 1024 ** 3 });
    expect(info).toMatchObject({ id: fast, path, active: true, volumeCount: 0 });
    expect(warnings.some((w) => w.includes(fast) && w.includes("cannot enforce"))).toBe(true);
    expect((await hv.initPool({ id: fast, type: "dir", path })).id).toBe(fast);
    const err = await expectKind(hv.initPool({ id: fast, type: "dir", path: join(root, "other") }), "already_exists");
    expect(err.message).toContain(path);
    expect(err.message).toContain(join(root, "other"));
    await expectKind(hv.initPool({ id: "bad id", type: "dir", path }), "invalid_argument");
  });

  test("listPools: default first, ours, never libvirt's own pool named default", async () => {
    const lv = ffi.loadLibvirt();
    const c = ffi.openConnection(lv, "test:///default");
    try {
      if (ffi.lookupPoolByName(c, "default") === null) {
        const p = ffi.definePool(c, `<pool type='dir'><name>default</name><target><path>/var/lib/libvirt/images</path></target></pool>`);
        ffi.freePool(c, p);
      }
    } finally {
      ffi.closeConnection(c);
    }
    const ids = (await hv.listPools()).map((p) => p.id);
    expect(ids[0]).toBe("default");
    expect(ids).toContain(fast);
    expect(ids.filter((id) => id === "default")).toHaveLength(1);
    expect(ids).not.toContain(OWN);
    await expectKind(hv.getPool(OWN), "not_found");
    await expectKind(hv.getPool("nope"), "not_found");
  });

  test("pools outlive the backend: closed and reopened, the pool is still there", async () => {
    await hv.close();
    hv = await open();
    expect(await hv.getPool(fast)).toMatchObject({ id: fast, path: join(root, "fast"), active: true });
  });
});

describe("disks in pools", () => {
  const fast = `sb${run}-fast`;

  test("a volume disk in a custom pool is created there under its name; the same request again is not created again", async () => {
    const id = crypto.randomUUID();
    const s = spec({ disks: [{ id: "root", volume: `vol-${run}`, pool: fast, newImage: { sizeBytes: 2 << 20 }, bootOrder: 1 }] });
    const { vm, created } = await hv.createVm(id, s);
    expect(created).toBe(true);
    expect(vm.spec.disks[0]).toMatchObject({ id: "root", volume: `vol-${run}`, pool: fast, resolvedPath: join(root, "fast", `vol-${run}.qcow2`) });
    // The node's empty CD-ROM, for ChangeMedia later.
    expect(vm.spec.disks.map((d) => [d.id, d.device, d.bus])).toEqual([
      ["root", "disk", "virtio"],
      ["cdrom-0", "cdrom", "sata"],
    ]);
    expect((await hv.createVm(id, s)).created).toBe(false);
    await expectKind(hv.createVm(id, { ...s, disks: [{ ...s.disks[0]!, pool: "default" }] }), "already_exists");
    await hv.deleteVm(id, { deleteDisks: true, force: true });
  });

  test("an overlay on a relative backing name is at least the base's size, with the base as backingStore", async () => {
    const id = crypto.randomUUID();
    qcow2(join(root, "cloud", `base-${run}.qcow2`), 8 << 20);
    const { vm } = await hv.createVm(id, spec({ disks: [{ id: "root", newImage: { sizeBytes: 1 << 20, backingPath: `base-${run}` }, bootOrder: 1 }] }));
    const path = vm.spec.disks[0]?.resolvedPath ?? "";
    expect(path).toBe(join(storage, `${id}-root.qcow2`));
    const lv = ffi.loadLibvirt();
    const c = ffi.openConnection(lv, "test:///default");
    try {
      expect(ffi.withVolumeAt(c, path, (v) => ffi.volumeInfo(c, v).capacity)).toBe(8 << 20);
    } finally {
      ffi.closeConnection(c);
    }
    await hv.deleteVm(id, { deleteDisks: true, force: true });
  });

  test("a missing backing file or pool fails before anything is made", async () => {
    const id = crypto.randomUUID();
    const noBase = await expectKind(
      hv.createVm(id, spec({ disks: [{ id: "root", newImage: { sizeBytes: 1 << 20, backingPath: "ghost" } }] })),
      "invalid_state",
    );
    expect(noBase.message).toContain('backing file "ghost" not found');
    const noPool = await expectKind(hv.createVm(id, spec({ disks: [{ id: "root", pool: "nope", newImage: { sizeBytes: 1 << 20 } }] })), "not_found");
    expect(noPool.message).toContain(fast);
    await expectKind(hv.getVm(id), "not_found");
  });

  test("cloud-init: the ISO is written 0600, its CD-ROM first among CD-ROMs; the same request twice is one vm; delete removes the ISO", async () => {
    const id = crypto.randomUUID();
    const s = spec({
      disks: [
        { id: "root", newImage: { sizeBytes: 1 << 20 }, bootOrder: 1 },
        { id: "install", device: "cdrom", path: "/srv/isos/x.iso" },
      ],
    });
    s.cloudInit = { userData: "#cloud-config\nhostname: x\n", metaData: "", networkConfig: "", vendorData: "" };
    const { vm } = await hv.createVm(id, s);
    const iso = join(storage, `${id}-cloud-init.iso`);
    expect(vm.spec.disks.map((d) => d.id)).toEqual(["root", "cloud-init", "install"]);
    expect(vm.spec.disks[1]).toMatchObject({ device: "cdrom", bus: "sata", readonly: true, bootOrder: 0, resolvedPath: iso });
    expect(statSync(iso).mode & 0o777).toBe(0o600);
    expect(new TextDecoder().decode(readFileSync(iso).subarray(32769, 32774))).toBe("CD001");
    // The status keeps only the data's digest (the data can hold secrets); the same request is still the same VM.
    expect(vm.spec.cloudInit).toEqual({ userData: "", metaData: "", networkConfig: "", vendorData: "", digest: cloudInitDigest(s.cloudInit) });
    expect((await hv.createVm(id, s)).created).toBe(false);
    await expectKind(hv.createVm(id, { ...s, cloudInit: { ...s.cloudInit, userData: "#cloud-config\n" } }), "already_exists");
    await hv.deleteVm(id, { deleteDisks: false, force: true });
    expect(existsSync(iso)).toBe(false);
  });

  test("a create that fails after writing the cloud-init ISO removes it with the images", async () => {
    const id = crypto.randomUUID();
    const s = spec({ firmware: "uefi" });
    s.cloudInit = { userData: "#cloud-config\n", metaData: "", networkConfig: "", vendorData: "" };
    // The test driver offers no UEFI firmware: found after the image and the ISO exist.
    await expectKind(hv.createVm(id, s), "unsupported");
    expect(existsSync(join(storage, `${id}-cloud-init.iso`))).toBe(false);
    await expectKind(hv.getVm(id), "not_found");
  });

  test("a CD-ROM named relative to the pools is resolved; one that is nowhere fails and leaves nothing behind", async () => {
    mkdirSync(join(root, "fast", "iso"), { recursive: true });
    writeFileSync(join(root, "fast", "iso", `deb-${run}.iso`), "iso");
    const id = crypto.randomUUID();
    const { vm } = await hv.createVm(
      id,
      spec({
        disks: [
          { id: "root", newImage: { sizeBytes: 1 << 20 } },
          { id: "cd", device: "cdrom", volume: `iso/deb-${run}.iso` },
        ],
      }),
    );
    expect(vm.spec.disks[1]).toMatchObject({ id: "cd", volume: `iso/deb-${run}.iso`, resolvedPath: join(root, "fast", "iso", `deb-${run}.iso`) });
    await hv.deleteVm(id, { deleteDisks: true, force: true });

    const other = crypto.randomUUID();
    const s = spec({
      disks: [
        { id: "root", newImage: { sizeBytes: 1 << 20 } },
        { id: "cd", device: "cdrom", volume: "iso/none.iso" },
      ],
    });
    s.cloudInit = { userData: "#cloud-config\n", metaData: "", networkConfig: "", vendorData: "" };
    const err = await expectKind(hv.createVm(other, s), "not_found");
    expect(err.message).toContain("iso/none.iso");
    expect(existsSync(join(storage, `${other}-cloud-init.iso`))).toBe(false);
    const lv = ffi.loadLibvirt();
    const c = ffi.openConnection(lv, "test:///default");
    try {
      expect(ffi.volumeExists(c, join(storage, `${other}-root.qcow2`))).toBe(false);
    } finally {
      ffi.closeConnection(c);
    }
  });
});

describe("resize and media on the test driver", () => {
  test("resizeVolume: the size rules first, a vm disk found by id, ambiguity and absence reported; the driver cannot resize", async () => {
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    await hv.createVm(a, spec({ disks: [{ id: `data${run}`, newImage: { sizeBytes: 1 << 20 } }] }));
    await expectKind(hv.resizeVolume("default", `data${run}`, 1000), "invalid_argument");
    // Stopped vm: libvirt's volume resize, which this driver lacks.
    const err = await expectKind(hv.resizeVolume("default", `data${run}`, 2 << 20), "unsupported");
    expect(err.message).toContain("virStorageVolResize");
    const same = await hv.resizeVolume("default", `data${run}`, 1 << 20);
    expect(same).toMatchObject({ poolId: "default", sizeBytes: 1 << 20, attachedTo: a, path: join(storage, `${a}-data${run}.qcow2`) });
    await expectKind(hv.resizeVolume("default", `data${run}`, 512 << 10), "invalid_argument");
    await hv.createVm(b, spec({ disks: [{ id: `data${run}`, newImage: { sizeBytes: 1 << 20 } }] }));
    const two = await expectKind(hv.resizeVolume("default", `data${run}`, 2 << 20), "invalid_state");
    expect(two.message).toContain(a);
    expect(two.message).toContain(b);
    const none = await expectKind(hv.resizeVolume("default", "ghost", 2 << 20), "not_found");
    expect(none.message).toContain("no vm has a disk with id ghost");
    await expectKind(hv.resizeVolume("nope", "x", 2 << 20), "not_found");
    await hv.deleteVm(a, { deleteDisks: true, force: true });
    await hv.deleteVm(b, { deleteDisks: true, force: true });
  });

  test("changeMedia: unknown CD-ROM and ISO are named; the driver cannot update devices", async () => {
    const id = crypto.randomUUID();
    await hv.createVm(id, spec());
    const noCd = await expectKind(hv.changeMedia(id, "nope", {}), "not_found");
    expect(noCd.message).toContain("cdrom-0");
    await expectKind(hv.changeMedia(id, "cdrom-0", { volume: "iso/none.iso" }), "not_found");
    await expectKind(hv.changeMedia(id, "cdrom-0", { path: "/srv/x.iso" }), "unsupported");
    await expectKind(hv.changeMedia(crypto.randomUUID(), "cdrom-0", {}), "not_found");
    await hv.deleteVm(id, { deleteDisks: true, force: true });
  });

  test("capabilities say the test driver's guests get no KVM", async () => {
    expect(await hv.capabilities()).toMatchObject({ hardwareAcceleration: false, domainType: "qemu" });
  });
});
