// <hostdev> for PCI passthrough. managed='yes': libvirt detaches the device from its host driver
// (binding vfio-pci) at start and gives it back at stop.

import type { HostDevice } from "../../../types.ts";
import type { HostdevDef } from "../model.ts";
import { parsePciAddress } from "../pci-address.ts";

export function configureHostDevices(devices: HostDevice[]): HostdevDef[] {
  return devices.map((dev, i) => ({
    mode: "subsystem",
    type: "pci",
    managed: "yes",
    address: parsePciAddress(dev.pciAddress, `spec.host_devices[${i}].pci_address`),
    // Some GPUs hang the guest when their option ROM is exposed; the spec can turn the BAR off.
    romBar: dev.romBar ? undefined : "off",
  }));
}
