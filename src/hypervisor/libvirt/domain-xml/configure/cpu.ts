// <vcpu> and <cpu>: the vCPU count is the product of the topology, which libvirt requires to match.
// The node's disabled CPU features (hypervisor.cpu_disabled_features) go on host-passthrough and
// host-model CPUs: some hosts advertise a feature KVM cannot give a guest (nested AMD EPYC hosts
// and arch-capabilities: QEMU aborts with "failed to set MSR 0x10a").

import type { CpuSpec } from "../../../types.ts";
import { HypervisorError } from "../../../errors.ts";
import type { CpuDef } from "../model.ts";

/** libvirt's CPU feature names (cpu_map): lower case, digits, '_', '.', '-'. */
export const CPU_FEATURE_NAME = /^[a-z0-9_.-]+$/;

export function configureCpu(cpu: CpuSpec, disabledFeatures: readonly string[] = []): { vcpus: number; cpu: CpuDef } {
  const topology = { sockets: cpu.sockets, cores: cpu.coresPerSocket, threads: cpu.threadsPerCore };
  const vcpus = cpu.sockets * cpu.coresPerSocket * cpu.threadsPerCore;
  for (const name of disabledFeatures) {
    if (!CPU_FEATURE_NAME.test(name)) {
      throw new HypervisorError("invalid_argument", `cpu feature ${JSON.stringify(name)} is not a libvirt CPU feature name ([a-z0-9_.-]+)`);
    }
  }
  if (cpu.mode === "custom") {
    return {
      vcpus,
      cpu: {
        mode: "custom",
        match: "exact",
        check: "partial",
        // forbid: fail to start rather than silently run a different CPU model.
        model: cpu.model === undefined ? undefined : { name: cpu.model, fallback: "forbid" },
        topology,
      },
    };
  }
  // host-passthrough VMs migrate only between identical hosts; libvirt needs to be told so.
  const def: CpuDef = { mode: cpu.mode, check: "none", migratable: cpu.mode === "host-passthrough" ? "on" : undefined, topology };
  // Sorted and deduplicated, so the same setting always gives the same XML.
  const names = [...new Set(disabledFeatures)].sort();
  if (names.length > 0) def.features = names.map((name) => ({ policy: "disable", name }));
  return { vcpus, cpu: def };
}
