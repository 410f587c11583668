// The real tier: a real QEMU VM's VNC server through the console proxy. The browser's side is
// a real WebSocket on the host UI listener; the VM boots no OS, so the screen is the firmware's,
// and what is judged is the RFB greeting, the handshake and a framebuffer update.
// Needs `sudo bash scripts/setup-libvirt.sh` and LIMIQUANTIX_REAL_LIBVIRT=1.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withDefaults } from "../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../src/hypervisor/libvirt/index.ts";
import type { Hypervisor } from "../../../src/hypervisor/types.ts";
import {
  REAL,
  realCpuDisabledFeatures,
  realDomainType,
  realTierStorage,
  type RealTierStorage,
  URI,
  virshQuietly,
} from "../../hypervisor/libvirt/real/helpers.ts";
import { type HostUiHarness, startHostUi } from "./host-ui-harness.ts";

const STEP_MS = 90_000;

describe.skipIf(!REAL)(`a real QEMU VM's console through the proxy (${URI})`, () => {
  const id = crypto.randomUUID();
  const domainType = realDomainType();
  // Only a host CPU (kvm) takes them (features this machine's KVM cannot give a guest).
  const cpuDisabledFeatures = domainType === "kvm" ? realCpuDisabledFeatures() : [];
  let storage: RealTierStorage;
  let hv: Hypervisor;
  let h: HostUiHarness;

  beforeAll(async () => {
    storage = realTierStorage("lq16b-");
    hv = await createLibvirtHypervisor({
      uri: URI,
      storagePath: storage.storagePath,
      consoleListen: "127.0.0.1",
      poolName: storage.poolName,
      domainType,
      cpuDisabledFeatures,
    });
    h = await startHostUi({ hypervisor: hv });
  }, STEP_MS);

  afterAll(async () => {
    virshQuietly(["destroy", id], ["undefine", id, "--nvram"]);
    await h?.close();
    await hv?.close();
    storage?.remove();
  }, STEP_MS);

  test(
    "RFB greeting, handshake and a framebuffer update from QEMU's VNC",
    async () => {
      const spec = withDefaults({
        name: `lq16b-${id.slice(0, 8)}`,
        memoryMib: 128,
        cpu: domainType === "kvm" ? { sockets: 1, coresPerSocket: 1 } : { sockets: 1, coresPerSocket: 1, mode: "custom", model: "qemu64" },
        disks: [{ id: "root", newImage: { sizeBytes: 64 * 1024 * 1024, format: "qcow2" }, bootOrder: 1 }],
        console: { type: "vnc" },
      });
      await hv.createVm(id, spec);
      await hv.startVm(id);
      const login = await h.login();
      const t = await h.ticket(login, id);
      const ws = await h.openSocket(t.wsPath, login, { protocols: ["binary"] });
      const rfb = await h.rfb(ws);
      console.log(`QEMU says ${JSON.stringify(rfb.serverVersion)}, screen ${rfb.init.width}x${rfb.init.height} "${rfb.init.name}"`);
      expect(rfb.serverVersion).toMatch(/^RFB 003\.00[78]\n$/);
      expect(rfb.init.width).toBeGreaterThan(0);
      expect(rfb.init.height).toBeGreaterThan(0);
      const rects = await rfb.update(false);
      const pixels = rects.reduce((n, r) => n + r.width * r.height, 0);
      console.log(`first update: ${rects.length} rectangle(s), ${pixels} pixels`);
      expect(pixels).toBeGreaterThan(0);
      rfb.close();
    },
    STEP_MS,
  );
});
