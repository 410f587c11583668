// <vcpu> and <cpu>: the vCPU count is the product of the topology, which libvirt requires to match.
//
// Mode auto is the host's CPU (host-passthrough) under KVM and QEMU's "max" CPU (libvirt's
// mode='maximum': every feature TCG can emulate) under TCG, where libvirt refuses host-passthrough
// ("CPU mode 'host-passthrough' for x86_64 qemu domain on x86_64 host is not supported by
// hypervisor"). The metadata remembers that auto was asked (configure/metadata.ts).
//
// The node's disabled CPU features (hypervisor.cpu_disabled_features) go on every CPU derived from
// the host's under KVM (host-passthrough, host-model, maximum), not on a custom model: some hosts
// advertise a feature KVM cannot give a guest (nested AMD EPYC hosts and arch-capabilities: QEMU
// aborts with "failed to set MSR 0x10a"). Under TCG the list is about another engine: not applied.

import type { CpuMode, CpuSpec } from "../../../types.ts";
import { HypervisorError } from "../../../errors.ts";
import type { CpuDef } from "../model.ts";

/** libvirt's CPU feature names (cpu_map): lower case, digits, '_', '.', '-'. */
export const CPU_FEATURE_NAME = /^[a-z0-9_.-]+$/;

/** The mode libvirt is given: auto resolved for the domain type. */
export function effectiveCpuMode(mode: CpuMode, domainType: string): Exclude<CpuMode, "auto"> {
  if (mode !== "auto") return mode;
  return domainType === "kvm" ? "host-passthrough" : "maximum";
}

export function configureCpu(cpu: CpuSpec, disabledFeatures: readonly string[] = [], domainType = "kvm"): { vcpus: number; cpu: CpuDef } {
  const topology = { sockets: cpu.sockets, cores: cpu.coresPerSocket, threads: cpu.threadsPerCore };
  const vcpus = cpu.sockets * cpu.coresPerSocket * cpu.threadsPerCore;
  for (const name of disabledFeatures) {
    if (!CPU_FEATURE_NAME.test(name)) {
      throw new HypervisorError("invalid_argument", `cpu feature ${JSON.stringify(name)} is not a libvirt CPU feature name ([a-z0-9_.-]+)`);
    }
  }
  const mode = effectiveCpuMode(cpu.mode, domainType);
  if (mode === "host-passthrough" && domainType !== "kvm") {
    throw new HypervisorError(
      "unsupported",
      `spec.cpu.mode: host-passthrough needs KVM and this node runs guests under TCG (domain type ${domainType}); use auto or maximum`,
      "spec.cpu.mode",
    );
  }
  if (mode === "custom") {
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
  const def: CpuDef = { mode, check: "none", migratable: mode === "host-passthrough" ? "on" : undefined, topology };
  // Sorted and deduplicated, so the same setting always gives the same XML.
  const names = domainType === "kvm" ? [...new Set(disabledFeatures)].sort() : [];
  if (names.length > 0) def.features = names.map((name) => ({ policy: "disable", name }));
  return { vcpus, cpu: def };
}
