// Pure libvirt XML for the libvirt backend: domain definitions built from a VmSpec and read back,
// device XML for hot-plug, snapshots, storage, and host capabilities. No I/O here.
//
// For callers:
// - libvirt leaves graphics passwords out of virDomainGetXMLDesc unless VIR_DOMAIN_XML_SECURE (1)
//   is passed; console ports exist only in the live XML (no VIR_DOMAIN_XML_INACTIVE).
// - parseDomainXml reads both live and inactive XML to the same spec (host-model CPUs included;
//   the node's disabled CPU features and the spare PCIe root ports are not part of the spec).
// - Errors: bad input throws HypervisorError "invalid_argument" (with the spec field) or
//   "unsupported" (UEFI without firmware); XML we cannot read throws "internal".

export { METADATA_NS, METADATA_PREFIX } from "./metadata-xml.ts";
export {
  buildDomainXml,
  buildDomainDef,
  buildMetadataXml,
  assertXmlSafe,
  type DomainBuildInput,
} from "./build-domain.ts";
export { parseDomainXml, parseDomainDefXml, type ParsedDomain } from "./parse-domain.ts";
export type { ConsoleDetails } from "./domain-to-spec.ts";
export type { UefiInput } from "./configure/os.ts";
export { CPU_FEATURE_NAME } from "./configure/cpu.ts";
export { HOTPLUG_PCIE_PORTS } from "./configure/pcie-ports.ts";
export { assignDiskTargets } from "../../disk-targets.ts";
export { buildDiskDeviceXml, buildNicDeviceXml } from "./device-xml.ts";
export { buildSnapshotXml, parseSnapshotXml, type ParsedSnapshot, type SnapshotXmlOptions } from "./snapshot-xml.ts";
export { buildVolumeXml, buildDirPoolXml, type VolumeXmlOptions } from "./storage-xml.ts";
export {
  parseCapabilitiesXml,
  parseDomainCapabilitiesXml,
  type HostCapabilities,
  type GuestArch,
} from "./capabilities-xml.ts";
export { diskAlias, nicAlias } from "./user-alias.ts";
export type { DomainDef, LqMetadata } from "./model.ts";
