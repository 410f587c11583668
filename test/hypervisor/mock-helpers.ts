// Shared set-up for the mock-only test files: fast mocks closed after each test, valid specs.

import { withDefaults, type VmSpecInput } from "../../src/hypervisor/defaults.ts";
import { createMockHypervisor, type MockOptions } from "../../src/hypervisor/mock/index.ts";
import type { Hypervisor, MigrationProgress, VmSpec } from "../../src/hypervisor/types.ts";

const open: Hypervisor[] = [];

/** Register with afterEach in every file that uses mock(). */
export async function closeMocks(): Promise<void> {
  await Promise.all(open.splice(0).map((hv) => hv.close()));
}

export function mock(opts: MockOptions = {}): Hypervisor {
  const hv = createMockHypervisor({ acpiShutdownMs: 5, bootMs: 0, migrationStepMs: 2, ...opts });
  open.push(hv);
  return hv;
}

let n = 0;
export function spec(input: Partial<VmSpecInput> = {}): VmSpec {
  n++;
  return withDefaults({
    name: `vm-${n}`,
    memoryMib: 1024,
    disks: [{ id: "root", newImage: { sizeBytes: 10 * 2 ** 30 }, bootOrder: 1 }],
    nics: [{ id: "eth0", bridge: "br0" }],
    ...input,
  });
}

export async function create(hv: Hypervisor, input: Partial<VmSpecInput> = {}): Promise<string> {
  const id = crypto.randomUUID();
  await hv.createVm(id, spec(input));
  return id;
}

export async function collect(it: AsyncIterable<MigrationProgress>, onFrame?: (p: MigrationProgress) => void) {
  const frames: MigrationProgress[] = [];
  let error: unknown;
  try {
    for await (const p of it) {
      frames.push(p);
      onFrame?.(p);
    }
  } catch (err) {
    error = err;
  }
  return { frames, error };
}
