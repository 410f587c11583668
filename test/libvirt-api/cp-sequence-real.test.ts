// The control plane's call sequence (test/contract/cp-sequence.ts) as raw gRPC frames of its own
// encoding, against the compiled binary on QEMU under libvirtd, with virsh confirming each step:
// the NoCloud ISO's label and files, the CD-ROM's medium, the VNC listen address, the hot-plugged
// disk and the disk's virtual size after the resize. Runs with LIMIQUANTIX_REAL_LIBVIRT=1 (CI sets
// it); on KVM or TCG, whichever the host offers.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { detectManagementIp } from "../../src/registration/management-ip.ts";
import { type BinaryDaemon, startBinaryDaemon } from "../support/binary-daemon.ts";
import { CLONE_ID, NETINST_ISO, POOL_ID, replayControlPlaneSequence, replayNetworkPools, VM_ID } from "../contract/cp-sequence.ts";
import {
  REAL,
  realCpuDisabledFeatures,
  realNetwork,
  realTierStorage,
  type RealTierStorage,
  URI,
  virsh,
  virshQuietly,
} from "../hypervisor/libvirt/real/helpers.ts";

const OWN_POOL = "limiquantix";

function removeDomain(id: string): void {
  virshQuietly(["destroy", id], ["undefine", id, "--snapshots-metadata", "--nvram"]);
}

/** A pool the daemon would adopt by name: only one an earlier test run left under the temp folder is removed. */
function removeLeftoverOwnPool(): void {
  let xml = "";
  try {
    xml = virsh("pool-dumpxml", OWN_POOL);
  } catch {
    return;
  }
  if (!/<path>\/tmp\/lq-/.test(xml)) throw new Error(`a libvirt pool ${OWN_POOL} exists outside the test folders; this test would use it`);
  virshQuietly(["pool-destroy", OWN_POOL], ["pool-undefine", OWN_POOL]);
}

/** The RFB greeting of a VNC server at host:port (what the control plane's proxy reads first). */
function vncGreeting(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 10_000 });
    socket.once("data", (d) => {
      socket.destroy();
      resolve(d.toString("latin1"));
    });
    socket.once("timeout", () => reject(new Error(`no VNC greeting from ${host}:${port}`)));
    socket.once("error", reject);
  });
}

function isoinfo(args: string[]): string {
  const r = Bun.spawnSync(["isoinfo", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`isoinfo ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

describe.skipIf(!REAL)(`the control plane's sequence on the compiled binary, libvirt at ${URI}`, () => {
  let storage: RealTierStorage;
  let daemon: BinaryDaemon;
  const managementHost = detectManagementIp(networkInterfaces());

  beforeAll(async () => {
    removeDomain(VM_ID);
    removeDomain(CLONE_ID);
    removeLeftoverOwnPool();
    storage = realTierStorage("lq-cpseq-");
    daemon = await startBinaryDaemon([], {
      LIMIQUANTIX_HYPERVISOR_BACKEND: "libvirt",
      LIMIQUANTIX_HYPERVISOR_LIBVIRT_URI: URI,
      LIMIQUANTIX_NODE_STATE_DIR: storage.root,
      LIMIQUANTIX_HYPERVISOR_STORAGE_PATH: storage.storagePath,
      LIMIQUANTIX_HYPERVISOR_CPU_DISABLED_FEATURES: realCpuDisabledFeatures().join(","),
      LIMIQUANTIX_HYPERVISOR_DEFAULT_NETWORK: realNetwork(),
      LIMIQUANTIX_HYPERVISOR_CONSOLE_LISTEN: "0.0.0.0",
      LIMIQUANTIX_CONTROL_PLANE_MANAGEMENT_IP: managementHost,
    });
  }, 180_000);

  afterAll(async () => {
    removeDomain(VM_ID);
    removeDomain(CLONE_ID);
    await daemon?.stop();
    for (const pool of ["3a9d4c1e-7f2b-4c8a-b6e5-0d1f2e3c4b5a", OWN_POOL]) {
      virshQuietly(["pool-destroy", pool], ["pool-undefine", pool]);
    }
    storage?.remove();
  });

  test("each step as the control plane takes it, confirmed by virsh", async () => {
    const poolDir = join(storage.root, "pools", "local-ssd");
    mkdirSync(join(poolDir, "iso"), { recursive: true });
    // Not bootable: the guest stays in the firmware, which is all this sequence needs.
    writeFileSync(join(poolDir, "iso", NETINST_ISO), Buffer.alloc(64 * 1024));
    writeFileSync(join(poolDir, "iso", "tools.iso"), Buffer.alloc(64 * 1024));
    const cloudDir = join(storage.storagePath, "cloud");
    mkdirSync(cloudDir, { recursive: true });
    const cloudImage = join(cloudDir, "debian-12.qcow2");
    const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", cloudImage, "1G"], { stderr: "pipe" });
    expect(made.stderr.toString()).toBe("");

    const blk = () => virsh("domblklist", VM_ID, "--details");
    await replayControlPlaneSequence({
      client: daemon.client,
      poolDir,
      cloudImage,
      managementHost,
      guestAnswersAcpi: false,
      // No OS: the guest never lets go of a device, so a detach leaves the definition only.
      guestReleasesDevices: true,
      hooks: {
        async afterCreate() {
          // The NoCloud ISO: attached as a CD-ROM, labelled cidata, holding the control plane's data.
          const isoLine = blk()
            .split("\n")
            .find((l) => l.includes("cloud-init.iso"));
          expect(isoLine).toContain("cdrom");
          const iso = isoLine!.trim().split(/\s+/).at(-1)!;
          expect(isoinfo(["-d", "-i", iso])).toMatch(/Volume id: CIDATA/);
          expect(isoinfo(["-J", "-x", "/user-data", "-i", iso])).toContain("hostname: web-1");
          expect(isoinfo(["-J", "-x", "/meta-data", "-i", iso])).toContain("instance-id: 6f1c2a9e-4b7d-4e21-9a3c-5d8e7f6a1b20");
          expect(blk()).toContain(`${poolDir}/iso/${NETINST_ISO}`);
          // The root disk: a 20 GiB overlay (its size_gib) on the 1 GiB cloud image, in the pool.
          const root = `${poolDir}/0c4e5f6a-1b2c-4d3e-8f9a-0b1c2d3e4f5a.qcow2`;
          expect(virsh("vol-info", "--pool", POOL_ID, "0c4e5f6a-1b2c-4d3e-8f9a-0b1c2d3e4f5a.qcow2")).toMatch(/Capacity:\s+20\.00 GiB/);
          const info = JSON.parse(Bun.spawnSync(["qemu-img", "info", "-U", "--output=json", root]).stdout.toString());
          expect({ backing: info["backing-filename"], size: info["virtual-size"] }).toEqual({ backing: cloudImage, size: 20 * 1024 ** 3 });
        },
        async afterStart() {
          expect(virsh("domstate", VM_ID)).toBe("running");
          expect(virsh("dumpxml", VM_ID)).toMatch(/<graphics type='vnc' port='\d+' autoport='yes' listen='0\.0\.0\.0'/);
        },
        async afterConsole(host, port) {
          // Reachable at the announced address, from outside loopback, as the control plane dials it.
          expect(await vncGreeting(host, port)).toMatch(/^RFB 003\.00\d/);
        },
        async afterMediaInserted(_status, iso) {
          expect(blk()).toContain(iso);
        },
        async afterMediaEjected() {
          expect(blk()).not.toContain("tools.iso");
        },
        async afterDiskAttached() {
          expect(blk()).toMatch(/disk-1764892800123456789|vd[c-z]/);
        },
        async afterResize(_status, bytes) {
          const info = virsh("domblkinfo", VM_ID, "vda");
          expect(info).toContain(`Capacity:       ${bytes}`);
        },
        async afterDelete() {
          expect(() => virsh("domstate", VM_ID)).toThrow();
        },
      },
    });
  }, 600_000);

  test("NFS, Ceph RBD and iSCSI pools whose server does not answer: UNAVAILABLE naming it, at once", async () => {
    // Port 1 on loopback: nothing listens, so every probe is refused.
    await replayNetworkPools(daemon.client, 1);
  }, 120_000);
});
