// Pure libvirt XML for the libvirt backend: domain definitions built from a VmSpec and read back,
// device XML for hot-plug, snapshots, storage, and host capabilities. No I/O here.
//
// For callers:
// - libvirt leaves graphics passwords out of virDomainGetXMLDesc unless VIR_DOMAIN_XML_SECURE (1)
//   is passed; console ports exist only in the live XML (no VIR_DOMAIN_XML_INACTIVE).
// - parseDomainXml reads both live and inactive XML to the same spec (host-model CPUs included;
//   the node's disabled CPU features and the spare PCIe root ports are not part of the spec).
// - Errors: bad input throws HypervisorError "invalid_argument" (with the spec field) or
//   "unsupported" (UEFI without firmware, host-passthrough on TCG); XML we cannot read throws
//   "internal".
// - The request facts libvirt's XML cannot carry (volumes, pools, the bus asked for, CPU mode
//   auto, guest_os, cloud-init data) live in our metadata: pass the domain's machine to
//   buildMetadataXml and buildDiskDeviceXml (IDE is SATA on q35, see busOnMachine).
// - The node's cloud-init CD-ROM (CLOUD_INIT_CDROM_ID) is part of the spec read back;
//   specsEqual ignores it. Pass the host's Hyper-V enlightenments (parseDomainCapabilitiesXml's
//   hypervFeatures) as DomainBuildInput.hypervFeatures, or Windows profiles may not start on
//   hosts whose KVM lacks Hyper-V emulation.

export { METADATA_NS, METADATA_PREFIX } from "./metadata-xml.ts";
export {
  buildDomainXml,
  buildDomainDef,
  buildMetadataXml,
  assertXmlSafe,
  type DomainBuildInput,
} from "./build-domain.ts";
export { parseDomainXml, parseDomainXmlFresh, parseDomainDefXml, type ParsedDomain } from "./parse-domain.ts";
export type { ConsoleDetails } from "./domain-to-spec.ts";
export type { UefiInput } from "./configure/os.ts";
export { CPU_FEATURE_NAME, effectiveCpuMode } from "./configure/cpu.ts";
export { GUEST_OS_PROFILES, guestOsProfile, type GuestOsProfile } from "./configure/guest-os.ts";
export { HOTPLUG_PCIE_PORTS } from "./configure/pcie-ports.ts";
export { assignDiskTargets, busOnMachine } from "../../disk-targets.ts";
export { buildDiskDeviceXml, buildNicDeviceXml } from "./device-xml.ts";
export { buildSnapshotXml, parseSnapshotXml, type ParsedSnapshot, type SnapshotXmlOptions } from "./snapshot-xml.ts";
export { buildVolumeXml, buildDirPoolXml, type VolumeXmlOptions } from "./storage-xml.ts";
export {
  parseCapabilitiesXml,
  parseDomainCapabilitiesXml,
  type HostCapabilities,
  type DomainCapabilities,
  type GuestArch,
} from "./capabilities-xml.ts";
export { diskAlias, nicAlias } from "./user-alias.ts";
export type { DomainDef, LqMetadata } from "./model.ts";
