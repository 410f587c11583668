// Pure libvirt XML for the libvirt backend: domain definitions built from a VmSpec and read back,
// device XML for hot-plug, snapshots, storage, and host capabilities. No I/O here.

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
export { assignDiskTargets } from "./targets.ts";
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
