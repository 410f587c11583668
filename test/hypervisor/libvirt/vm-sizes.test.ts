// The sizes metrics ticks keep between ticks (vm-sizes.ts): which ones a tick may use, which it
// reads again, and that every one is read again within RECHECK_TICKS ticks.

import { describe, expect, test } from "bun:test";
import type { KnownSize, VmFigures } from "../../../src/hypervisor/libvirt/vm-figures.ts";
import { zeroIoCounters } from "../../../src/hypervisor/types.ts";
import { createVmSizes, RECHECK_TICKS } from "../../../src/hypervisor/libvirt/vm-sizes.ts";

const size = (vcpus: number, runId = 1): KnownSize => ({ runId, vcpus, maxMemKib: 65536 });
const figures = (uuid: string, sizeRead?: KnownSize): VmFigures => ({
  uuid,
  name: uuid,
  state: 1,
  reason: 1,
  ...zeroIoCounters(),
  ...(sizeRead === undefined ? {} : { sizeRead }),
});

/** One tick as the call Worker runs it: every uuid whose size is not known is read (vcpus from reads). */
function tick(sizes: ReturnType<typeof createVmSizes>, uuids: string[], reads: Map<string, number>): string[] {
  const known = sizes.known();
  const readNow = uuids.filter((u) => known[u] === undefined);
  sizes.update(uuids.map((u) => figures(u, known[u] === undefined ? size(reads.get(u) ?? 1) : undefined)));
  return readNow;
}

describe("createVmSizes", () => {
  test("nothing kept at first; a read size is kept, a VM gone is forgotten", () => {
    const sizes = createVmSizes();
    expect(sizes.known()).toEqual({});
    sizes.update([figures("a", size(2)), figures("b", size(4))]);
    // Two kept: one (ceil(2 / RECHECK_TICKS)) is held back to be read again, the one read first.
    expect(sizes.known()).toEqual({ b: size(4) });
    sizes.update([figures("b")]);
    expect(sizes.known()).toEqual({});
    sizes.update([figures("b"), figures("c", size(1))]);
    expect(sizes.known()).toEqual({ c: size(1) });
  });

  test("a lone VM is always the one read longest ago: read every tick (ceil(1 / RECHECK_TICKS) = 1)", () => {
    const sizes = createVmSizes();
    const reads = new Map([["a", 1]]);
    const readTicks = Array.from({ length: 6 }, () => tick(sizes, ["a"], reads).length);
    expect(readTicks).toEqual([1, 1, 1, 1, 1, 1]);
  });

  test(`100 VMs: ${Math.ceil(100 / RECHECK_TICKS)} read again per tick, each within ${RECHECK_TICKS} ticks, a change seen in time`, () => {
    const sizes = createVmSizes();
    const uuids = Array.from({ length: 100 }, (_, i) => `vm-${i}`);
    const reads = new Map(uuids.map((u) => [u, 1]));
    expect(tick(sizes, uuids, reads)).toHaveLength(100);
    const lastRead = new Map(uuids.map((u) => [u, 0]));
    let longest = 0;
    for (let t = 1; t <= 3 * RECHECK_TICKS; t++) {
      const readNow = tick(sizes, uuids, reads);
      expect(readNow).toHaveLength(Math.ceil(100 / RECHECK_TICKS));
      for (const u of readNow) {
        longest = Math.max(longest, t - lastRead.get(u)!);
        lastRead.set(u, t);
      }
    }
    expect(longest).toBeLessThanOrEqual(RECHECK_TICKS);
    // A vCPU hot-plug on one VM: the size the ticks use follows within RECHECK_TICKS ticks.
    reads.set("vm-42", 4);
    let ticks = 0;
    let seen = false;
    while (!seen && ticks < RECHECK_TICKS) {
      seen = tick(sizes, uuids, reads).includes("vm-42");
      ticks++;
    }
    expect(seen).toBe(true);
    expect(sizes.known()["vm-42"]?.vcpus).toBe(4);
  });
});
