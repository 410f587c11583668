// Spare PCIe root ports for hot-plug on q35 machines. On q35 every hot-pluggable device needs a
// pcie-root-port of its own, and libvirt adds only as many as the defined devices use plus one
// spare, so a second hot-plug fails with "No more available PCI slots". libvirt fills explicit
// ports before adding its own, so we ask for one per device we define plus the spares (what
// OpenStack calls num_pcie_ports). A port an unreleased device still holds (a guest that ignores
// the unplug request) stays taken until the VM stops, which the spares absorb.

import type { ControllerDef, DevicesDef } from "../model.ts";

/** Hot-plugged devices a running q35 VM can take on top of the ones it was defined with. */
export const HOTPLUG_PCIE_PORTS = 8;

type PortDevices = Pick<DevicesDef, "disks" | "controllers" | "interfaces" | "hostdevs" | "channels" | "inputs" | "memballoon" | "rngs">;

/** Devices of the definition that sit on a root port; counting one too many only adds a spare. */
export function pcieDeviceCount(d: PortDevices): number {
  return (
    d.disks.filter((disk) => disk.target.bus === "virtio").length +
    d.controllers.filter((c) => c.type === "scsi").length +
    d.interfaces.length +
    d.hostdevs.length +
    d.rngs.length +
    (d.memballoon && d.memballoon.model !== "none" ? 1 : 0) +
    // The guest agent channel lives on a virtio-serial controller, the tablet on a USB (xhci) one.
    (d.channels.some((c) => c.targetType === "virtio") ? 1 : 0) +
    (d.inputs.some((i) => i.bus === "usb") ? 1 : 0)
  );
}

export function configurePciePorts(machine: string, devices: PortDevices, spare = HOTPLUG_PCIE_PORTS): ControllerDef[] {
  if (!machine.includes("q35")) return []; // i440fx's PCI root bus has 31 hot-pluggable slots
  const count = pcieDeviceCount(devices) + spare;
  // libvirt requires the root complex at index 0 once any PCI controller is given; the ports
  // get their indexes and addresses from libvirt.
  return [{ type: "pci", index: 0, model: "pcie-root" }, ...Array.from({ length: count }, () => ({ type: "pci", model: "pcie-root-port" }))];
}
