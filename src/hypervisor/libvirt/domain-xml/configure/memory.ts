// <memory>, <currentMemory> (no ballooning below the size at boot) and <memoryBacking>.

import type { VmSpec } from "../../../types.ts";

export function configureMemory(spec: Pick<VmSpec, "memoryMib" | "hugepages">) {
  const kib = spec.memoryMib * 1024;
  return { memoryKib: kib, currentMemoryKib: kib, hugepages: spec.hugepages };
}
