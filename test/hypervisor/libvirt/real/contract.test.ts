// The shared Hypervisor contract (test/hypervisor/contract.ts) on real QEMU under the system
// libvirtd, with the parts libvirt's test driver cannot run: device hot-plug on a running VM, a
// console that answers RFB, and a migration to a target that is down. The guests boot no OS
// (tiny empty qcow2 disks; TCG is fine): nothing answers ACPI, and an unplugged device is only
// released after libvirt's own wait, so the contract is told so. Every VM is named lq14b-...
// and removed after each test; the storage folder and its pool go at the end.

import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe } from "bun:test";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import type { Hypervisor } from "../../../../src/hypervisor/types.ts";
import { runHypervisorContract } from "../../contract.ts";
import { REAL, realCpuDisabledFeatures, realDomainType, realNetwork, realTierStorage, URI, virshQuietly } from "./helpers.ts";

const PREFIX = "lq14b-contract";

if (REAL) {
  const storage = realTierStorage("lq14b-contract-");
  const images = join(storage.root, "images");
  mkdirSync(images, { mode: 0o755 });
  const domainType = realDomainType();

  /** A tiny empty qcow2 (internal snapshots need qcow2), made when the spec names it. */
  const image = (file: string) => {
    const path = join(images, file);
    const r = spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", path, "16M"]);
    if (r.status !== 0) throw new Error(`qemu-img create ${path}: ${r.stderr}`);
    return path;
  };

  /** Every VM of this file, whatever a failed test left: force-deleted with its disks. */
  async function removeOurVms(hv: Hypervisor): Promise<void> {
    for (const vm of await hv.listVms()) {
      if (!vm.name.startsWith(`${PREFIX}-`)) continue;
      await hv.deleteVm(vm.id, { deleteDisks: true, force: true }).catch(() => {
        virshQuietly(["destroy", vm.id], ["undefine", vm.id, "--snapshots-metadata"]);
      });
    }
  }

  // One backend for the whole file (starting one costs 1-2 s here); each test's cleanup removes its VMs.
  let shared: Hypervisor | undefined;
  afterAll(async () => {
    if (shared) {
      await removeOurVms(shared);
      await shared.close();
    }
    storage.remove();
  });

  runHypervisorContract(
    `libvirt ${URI} (real QEMU, ${domainType})`,
    async () => {
      shared ??= await createLibvirtHypervisor({
        uri: URI,
        storagePath: storage.storagePath,
        consoleListen: "127.0.0.1",
        poolName: storage.poolName,
        domainType,
        cpuDisabledFeatures: domainType === "kvm" ? realCpuDisabledFeatures() : [],
        stopPollMs: 50,
        detachWaitMs: 200,
      });
      const hv = shared;
      return { hv, cleanup: () => removeOurVms(hv) };
    },
    {
      supportsHotPlug: true,
      supportsConsole: true,
      supportsMigration: true,
      imagePath: image,
      stopTimeoutMs: 500,
      guestHandlesAcpi: false,
      network: realNetwork(),
      namePrefix: PREFIX,
      // No VNC server but in the console test: a QEMU restored from a memory snapshot asks for
      // the port it had, which a console of someone else's test on this machine may hold by then.
      specExtras: { console: { type: "none" } },
    },
  );
} else {
  describe.skip("shared contract on real QEMU (set LIMIQUANTIX_REAL_LIBVIRT=1)", () => {});
}
