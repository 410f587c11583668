// What the host offers, read once at start from libvirt's capabilities: the domain type
// (kvm when libvirt can use /dev/kvm, else qemu/TCG), emulator, machine, UEFI firmware.

import { readdirSync } from "node:fs";
import type { Capabilities, HypervisorInfo } from "../types.ts";
import { parseCapabilitiesXml, parseDomainCapabilitiesXml } from "./domain-xml/index.ts";
import type { HostProfile } from "./context.ts";
import { formatVersion } from "./ffi/flags.ts";
import type { HostFacts } from "./ops.ts";

export function hostProfile(facts: HostFacts): HostProfile {
  const caps = parseCapabilitiesXml(facts.capabilitiesXml);
  const hvm = caps.guestArchs.filter((g) => g.osType === "hvm");
  const guest = hvm.find((g) => g.arch === caps.arch) ?? hvm[0];
  const qemu = facts.driverType === "QEMU";
  const profile: HostProfile = {
    driverType: facts.driverType,
    domainType: guest?.domainTypes.includes("kvm") ? "kvm" : "qemu",
    hostname: facts.hostname,
  };
  // Only QEMU's emulator path means anything in a domain definition.
  if (qemu && guest?.emulator) profile.emulator = guest.emulator;
  if (guest?.machines.includes("q35")) profile.machine = "q35";
  else if (guest?.machines.includes("pc")) profile.machine = "pc";
  const loader = facts.domainCapabilitiesXml ? parseDomainCapabilitiesXml(facts.domainCapabilitiesXml).uefiLoaders[0] : undefined;
  if (loader) profile.uefiLoader = loader;
  return profile;
}

/** The one start-up warning a host without KVM deserves (QEMU only: other drivers have no TCG). */
export function accelerationWarning(facts: HostFacts, profile: HostProfile): string | undefined {
  if (facts.driverType !== "QEMU" || profile.domainType === "kvm") return undefined;
  return "no usable /dev/kvm: guests run emulated (TCG), many times slower";
}

export function infoOf(facts: HostFacts): HypervisorInfo {
  return {
    backend: "libvirt",
    name: facts.driverType,
    version: formatVersion(facts.hypervisorVersion),
    uri: facts.uri,
    libvirtVersion: formatVersion(facts.libVersion),
  };
}

function iommuGroups(root = "/sys/kernel/iommu_groups"): number {
  try {
    return readdirSync(root).length;
  } catch {
    return 0;
  }
}

export function capabilitiesOf(facts: HostFacts, profile: HostProfile): Capabilities {
  const qemu = facts.driverType === "QEMU";
  const domCaps = facts.domainCapabilitiesXml ? parseDomainCapabilitiesXml(facts.domainCapabilitiesXml) : undefined;
  return {
    liveMigration: qemu,
    snapshots: true,
    hotPlug: qemu,
    gpuPassthrough: qemu && profile.domainType === "kvm" && iommuGroups() > 0,
    maxVcpus: domCaps?.maxVcpus ?? facts.maxVcpus ?? 1,
    maxMemoryBytes: facts.memoryKib * 1024,
    diskFormats: ["qcow2", "raw"],
    uefi: profile.uefiLoader !== undefined,
    hardwareAcceleration: profile.domainType === "kvm",
    domainType: profile.domainType,
  };
}
