// Each VM's size (vCPU count, defined memory) as metrics ticks last read it. A tick's bulk
// statistics leave the VCPU group out (ffi/stats.ts, METRICS_STATS), so the count comes from
// virDomainGetInfo: read for a VM the first time it is seen and whenever it was started again
// (the call Worker compares the run ID), and once more every RECHECK_TICKS ticks for every VM,
// the ones read longest ago first, which catches a vCPU hot-plug (`virsh setvcpus --live`) or a
// stopped VM redefined. No event could replace the recheck: libvirt (9.0, QEMU 7.2) emits none
// when a running guest's vCPU count changes (checked with `virsh event --all --loop`).

import type { KnownSize, VmFigures } from "./vm-figures.ts";

/** Every kept size is read again at least once every this many ticks. */
export const RECHECK_TICKS = 20;

export interface VmSizes {
  /** The sizes this tick may use: every kept one but the ceil(n / RECHECK_TICKS) read longest ago. */
  known(): Record<string, KnownSize>;
  /** Keeps the sizes read this tick; a VM missing from the tick's figures is gone and forgotten. */
  update(figures: readonly VmFigures[]): void;
}

export function createVmSizes(): VmSizes {
  // Map order is the order sizes were read in: the first entries are the ones read longest ago.
  const sizes = new Map<string, KnownSize>();
  return {
    known() {
      const out: Record<string, KnownSize> = {};
      let skip = Math.ceil(sizes.size / RECHECK_TICKS);
      for (const [uuid, size] of sizes) {
        if (skip > 0) skip--;
        else out[uuid] = size;
      }
      return out;
    },
    update(figures) {
      const present = new Set<string>();
      for (const f of figures) {
        present.add(f.uuid);
        if (f.sizeRead === undefined) continue;
        // Read again: to the end of the order.
        sizes.delete(f.uuid);
        sizes.set(f.uuid, f.sizeRead);
      }
      for (const uuid of sizes.keys()) if (!present.has(uuid)) sizes.delete(uuid);
    },
  };
}
