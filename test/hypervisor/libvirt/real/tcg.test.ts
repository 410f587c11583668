// A host without /dev/kvm: a VM created as the control plane creates it (no CPU mode given)
// starts under TCG, with QEMU's "maximum" CPU, and the backend says guests are not accelerated.
// Runs on any real-tier host: the domain type is forced to qemu (TCG) whether or not KVM exists.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withDefaults } from "../../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import type { Hypervisor } from "../../../../src/hypervisor/types.ts";
import { REAL, realTierStorage, type RealTierStorage, URI, virsh, virshQuietly } from "./helpers.ts";

describe.skipIf(!REAL)(`a VM with no CPU mode under TCG on ${URI}`, () => {
  let store: RealTierStorage;
  let hv: Hypervisor;
  const id = crypto.randomUUID();

  beforeAll(async () => {
    store = realTierStorage("lq-tcg-");
    hv = await createLibvirtHypervisor({ uri: URI, storagePath: store.storagePath, consoleListen: "127.0.0.1", poolName: store.poolName, domainType: "qemu" });
  }, 60_000);

  afterAll(async () => {
    virshQuietly(["destroy", id], ["undefine", id]);
    await hv?.close();
    store?.remove();
  });

  test("starts with cpu mode maximum on a qemu domain; capabilities say no acceleration", async () => {
    const caps = await hv.capabilities();
    expect({ accelerated: caps.hardwareAcceleration, type: caps.domainType }).toEqual({ accelerated: false, type: "qemu" });
    // The control plane's CreateVM sets cores, sockets, memory and a disk; never a CPU mode.
    const spec = withDefaults({
      name: `tcg-${id.slice(0, 8)}`,
      cpu: { sockets: 1, coresPerSocket: 2 },
      memoryMib: 256,
      disks: [{ id: "root", newImage: { sizeBytes: 64 * 1024 * 1024 } }],
    });
    expect(spec.cpu.mode).toBe("auto");
    await hv.createVm(id, spec);
    const started = await hv.startVm(id);
    expect(started.state).toBe("running");
    expect(virsh("domstate", id)).toBe("running");
    const live = virsh("dumpxml", id);
    expect(live).toContain("<domain type='qemu'");
    expect(live).toMatch(/<cpu mode='maximum'/);
    expect(live).not.toContain("host-passthrough");
    // The status reads back what was asked for: mode auto.
    expect((await hv.getVm(id)).spec.cpu.mode).toBe("auto");
  }, 120_000);
});
