// /sys/bus/pci/devices/*: the PCI functions a VM could be given, GPUs first. Bridges are left
// out (they route, they cannot be passed through); everything else is listed with its driver
// and IOMMU group so the control plane can tell what is bound to vfio-pci and what shares a group.

import { basename, join } from "node:path";
import type { PciDeviceInfo } from "./types.ts";
import { type HostIo, type HostRoots, readDirOptional, readLinkOptional, sysPath } from "./host-io.ts";
import { TelemetryParseError } from "./parse-error.ts";
import { pciClassName, pciVendorName } from "./pci-names.ts";

export interface PciRaw {
  address: string;
  vendor: string;
  device: string;
  class: string;
  /** Targets of the driver and iommu_group symlinks, when they exist. */
  driverLink?: string;
  iommuGroupLink?: string;
}

function hexId(text: string, file: string, digits: number): string {
  const v = text.trim().toLowerCase();
  if (!new RegExp(`^0x[0-9a-f]{1,${digits}}$`).test(v)) throw new TelemetryParseError(file, 1, `expected a hex id, got ${JSON.stringify(v)}`);
  return `0x${v.slice(2).padStart(digits, "0")}`;
}

export function parsePciDevice(raw: PciRaw, dir = `/sys/bus/pci/devices/${raw.address}`): PciDeviceInfo {
  const classCode = hexId(raw.class, join(dir, "class"), 6);
  const vendorId = hexId(raw.vendor, join(dir, "vendor"), 4);
  const info: PciDeviceInfo = {
    address: raw.address,
    vendorId,
    deviceId: hexId(raw.device, join(dir, "device"), 4),
    classCode,
    className: pciClassName(classCode),
    isGpu: classCode.startsWith("0x03"),
  };
  const vendorName = pciVendorName(vendorId);
  if (vendorName !== undefined) info.vendorName = vendorName;
  if (raw.driverLink !== undefined) info.driver = basename(raw.driverLink);
  if (raw.iommuGroupLink !== undefined) {
    const group = basename(raw.iommuGroupLink);
    if (!/^\d+$/.test(group)) throw new TelemetryParseError(join(dir, "iommu_group"), undefined, `bad group ${group}`);
    info.iommuGroup = Number(group);
  }
  return info;
}

export function isPassthroughCandidate(d: PciDeviceInfo): boolean {
  return !d.classCode.startsWith("0x06");
}

/** GPUs first, then by address. */
export function sortPciDevices(devices: PciDeviceInfo[]): PciDeviceInfo[] {
  return [...devices].sort((a, b) => Number(b.isGpu) - Number(a.isGpu) || a.address.localeCompare(b.address));
}

/** Undefined when /sys/bus/pci/devices cannot be listed (no sysfs, no PCI bus): unknown, not none. */
export async function readPciDevices(io: HostIo, roots: HostRoots): Promise<PciDeviceInfo[] | undefined> {
  const base = sysPath(roots, "bus/pci/devices");
  const addresses = await readDirOptional(io, base);
  if (addresses === undefined) return undefined;
  const devices = await Promise.all(
    addresses.map(async (address) => {
      const dir = join(base, address);
      const [vendor, device, cls, driverLink, iommuGroupLink] = await Promise.all([
        io.readText(join(dir, "vendor")),
        io.readText(join(dir, "device")),
        io.readText(join(dir, "class")),
        readLinkOptional(io, join(dir, "driver")),
        readLinkOptional(io, join(dir, "iommu_group")),
      ]);
      return parsePciDevice({ address, vendor, device, class: cls, driverLink, iommuGroupLink }, dir);
    }),
  );
  return sortPciDevices(devices.filter(isPassthroughCandidate));
}
