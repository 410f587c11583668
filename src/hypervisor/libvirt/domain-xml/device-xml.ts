// Single-device XML for virDomainAttachDeviceFlags / virDomainDetachDeviceFlags. The same
// configurators as the full domain, so a hot-plugged disk looks exactly like a defined one
// (including its ua- alias, by which libvirt can find it again to detach).

import type { DiskFormat, DiskSpec, NicSpec } from "../../types.ts";
import { diskDef } from "./configure/disks.ts";
import { nicDef } from "./configure/nics.ts";
import { assertXmlSafe } from "./build-domain.ts";
import { writeDisk, writeInterface } from "./domain-writer.ts";
import type { NetworkDiskSourceDef } from "./model.ts";
import { serializeXml } from "./xml-tree.ts";

/**
 * `machine`: the domain's (os.machine), so an IDE disk gets the bus it has there (SATA on q35).
 * `network`: a Ceph volume's monitors and secret.
 */
export function buildDiskDeviceXml(disk: DiskSpec, format: DiskFormat, machine?: string, network?: NetworkDiskSourceDef): string {
  assertXmlSafe(disk, "disk");
  return serializeXml(writeDisk(diskDef(disk, format, "disk", machine, network)));
}

export function buildNicDeviceXml(nic: NicSpec): string {
  assertXmlSafe(nic, "nic");
  return serializeXml(writeInterface(nicDef(nic)));
}
