// <vcpu> and <cpu>: the vCPU count is the product of the topology, which libvirt requires to match.

import type { CpuSpec } from "../../../types.ts";
import type { CpuDef } from "../model.ts";

export function configureCpu(cpu: CpuSpec): { vcpus: number; cpu: CpuDef } {
  const topology = { sockets: cpu.sockets, cores: cpu.coresPerSocket, threads: cpu.threadsPerCore };
  const vcpus = cpu.sockets * cpu.coresPerSocket * cpu.threadsPerCore;
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
  return {
    vcpus,
    cpu: { mode: cpu.mode, check: "none", migratable: cpu.mode === "host-passthrough" ? "on" : undefined, topology },
  };
}
