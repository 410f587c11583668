// buildDomainXml: VmSpec -> typed model (one configurator per section) -> XML.

import type { DiskFormat, VmSpec } from "../../types.ts";
import { HypervisorError } from "../../errors.ts";
import { configureCpu } from "./configure/cpu.ts";
import { configureDisks } from "./configure/disks.ts";
import { configureGraphics } from "./configure/graphics.ts";
import { configureGuestOs } from "./configure/guest-os.ts";
import { configureHostDevices } from "./configure/host-devices.ts";
import { configureLifecycle } from "./configure/lifecycle.ts";
import { configureMemory } from "./configure/memory.ts";
import { configureMetadata } from "./configure/metadata.ts";
import { configureNics } from "./configure/nics.ts";
import { configureOs, type UefiInput } from "./configure/os.ts";
import { configurePciePorts } from "./configure/pcie-ports.ts";
import { configureSupportDevices } from "./configure/support-devices.ts";
import { writeDomain } from "./domain-writer.ts";
import { serializeMetadata } from "./metadata-xml.ts";
import type { DevicesDef, DomainDef, NetworkDiskSourceDef } from "./model.ts";
import { assignDiskTargets } from "../../disk-targets.ts";
import { illegalXmlChar, serializeXml } from "./xml-tree.ts";

export interface DomainBuildInput {
  /** VM UUID = libvirt domain <uuid>. */
  id: string;
  /** Complete (defaults applied); disks have resolvedPath set; nics have mac set. */
  spec: VmSpec;
  /** qemu = TCG when /dev/kvm is absent: CPU mode auto, the paravirtual clocks and Hyper-V depend on it. */
  domainType: "kvm" | "qemu";
  /** e.g. /usr/bin/qemu-system-x86_64; libvirt picks one when absent. */
  emulator?: string;
  /** Default "q35". */
  machine?: string;
  uefi?: UefiInput;
  /** Graphics listen address when the spec has none. */
  consoleListen: string;
  createdAt: Date;
  /** disk id -> driver type of the image at resolvedPath. */
  diskFormats?: Record<string, DiskFormat>;
  /** disk id -> where QEMU reaches a network disk (a Ceph volume: monitors and secret). */
  diskNetworks?: Record<string, NetworkDiskSourceDef>;
  /** CPU features the host cannot give a guest (hypervisor.cpu_disabled_features); host CPUs only. */
  cpuDisabledFeatures?: readonly string[];
  /** Spare PCIe root ports for hot-plug on q35 (default HOTPLUG_PCIE_PORTS). */
  hotplugPciePorts?: number;
  /**
   * Hyper-V enlightenments the host offers (parseDomainCapabilitiesXml's hypervFeatures), which
   * limit the Windows profiles' set; undefined: the profile's set as it is.
   */
  hypervFeatures?: readonly string[];
  /** The Quantix agent channel's socket (<agent.socket_dir>/<uuid>.agent.sock); absent: no channel. */
  agentSocketPath?: string;
}

/** Reject, with the spec field that holds it, any string XML 1.0 cannot carry (NUL, ESC, ...). */
export function assertXmlSafe(value: unknown, field: string): void {
  if (typeof value === "string") {
    const bad = illegalXmlChar(value);
    if (bad) throw new HypervisorError("invalid_argument", `${field}: character ${bad} cannot be stored in libvirt XML`, field);
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) assertXmlSafe(v, `${field}[${i}]`);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      assertXmlSafe(k, `${field} key`);
      assertXmlSafe(v, `${field}.${k}`);
    }
  }
}

export function buildDomainDef(input: DomainBuildInput): DomainDef {
  const { spec } = input;
  assertXmlSafe(spec, "spec");
  assertXmlSafe(input.id, "id");
  const machine = input.machine ?? "q35";
  const disks = assignDiskTargets(spec.disks, [], machine);
  const { disks: diskDefs, controllers } = configureDisks(disks, input.diskFormats, machine, input.diskNetworks);
  const { os, features } = configureOs(spec.firmware, machine, input.uefi);
  const { clock, hyperv, videos } = configureGuestOs(spec.guestOs ?? "", input.domainType, spec.console.type, input.hypervFeatures);
  const devices: DevicesDef = {
    emulator: input.emulator,
    disks: diskDefs,
    controllers,
    interfaces: configureNics(spec.nics),
    ...configureSupportDevices(input.agentSocketPath),
    ...configureGraphics(spec.console, input.consoleListen),
    videos,
    hostdevs: configureHostDevices(spec.hostDevices),
  };
  devices.controllers = [...controllers, ...configurePciePorts(machine, devices, input.hotplugPciePorts)];
  return {
    type: input.domainType,
    name: spec.name,
    uuid: input.id,
    metadata: configureMetadata({ ...spec, disks }, input.createdAt, machine),
    ...configureMemory(spec),
    ...configureCpu(spec.cpu, input.cpuDisabledFeatures, input.domainType),
    os,
    features: hyperv ? { ...features, hyperv } : features,
    clock,
    ...configureLifecycle(),
    devices,
  };
}

export function buildDomainXml(input: DomainBuildInput): string {
  return serializeXml(writeDomain(buildDomainDef(input)));
}

/**
 * Our <lq:vm> element for a spec, to replace the domain's metadata after a change that does not
 * redefine the domain (hot-plugging a new image, relabelling): virDomainSetMetadata(dom,
 * VIR_DOMAIN_METADATA_ELEMENT, xml, METADATA_PREFIX, METADATA_NS, LIVE|CONFIG as applicable).
 * `machine` is the domain's (default q35), for the disks whose bus it changed.
 */
export function buildMetadataXml(spec: VmSpec, createdAt: Date, machine?: string): string {
  assertXmlSafe(spec, "spec");
  return serializeMetadata(configureMetadata(spec, createdAt, machine));
}
