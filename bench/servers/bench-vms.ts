// The VMs every benchmark server holds: named bench-<n>, a share of them running, as on a real
// host. The daemon fills its mock with them; the floor server encodes the same ones once, so
// both send answers of the same size.

import { withDefaults } from "../../src/hypervisor/defaults.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";

/** Creates n VMs, numbered from `first`; starts them in parallel (the mock's boot takes 50 ms of
 * timer time per VM). Returns their ids. */
export async function createBenchVms(hv: Hypervisor, n: number, runningShare: number, first = 0): Promise<string[]> {
  const ids: string[] = [];
  const starting: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    const k = first + i;
    const spec = withDefaults({
      name: `bench-${k}`,
      memoryMib: 2048,
      cpu: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1 },
      disks: [{ id: "root", newImage: { sizeBytes: 20 * 2 ** 30 }, bootOrder: 1 }],
      nics: [{ id: "eth0", network: "default" }],
      labels: { tier: k % 2 ? "web" : "db", bench: "true" },
    });
    await hv.createVm(id, spec);
    if (k % 100 < runningShare * 100) starting.push(hv.startVm(id));
    ids.push(id);
  }
  await Promise.all(starting);
  return ids;
}
