// The typed model back to the backend-neutral VmSpec. Devices this project never writes (USB
// disks, direct-attached NICs, ...) are mapped to the nearest spec value or left out, so a VM
// defined by hand still lists.

import type { CpuMode, DiskBus, DiskSpec, HostDevice, NicModel, NicSpec, VmSpec } from "../../types.ts";
import type { DiskDef, DomainDef, GraphicsDef, InterfaceDef, LqMetadata } from "./model.ts";
import { formatPciAddress } from "./pci-address.ts";
import { DISK_ALIAS_PREFIX, idFromAlias, NIC_ALIAS_PREFIX } from "./user-alias.ts";

export interface ConsoleDetails {
  type: "vnc" | "spice";
  port?: number;
  tlsPort?: number;
  listen?: string;
  password?: string;
  autoport: boolean;
}

const DISK_BUSES: readonly string[] = ["virtio", "scsi", "sata", "ide"];
const CPU_MODES: readonly string[] = ["host-passthrough", "host-model", "custom"];

function busOf(d: DiskDef): DiskBus {
  const bus = d.target.bus ?? "";
  if (DISK_BUSES.includes(bus)) return bus as DiskBus;
  // libvirt infers the bus from the name when it is missing: vd* virtio, hd* ide, others SCSI-like.
  if (d.target.dev.startsWith("vd")) return "virtio";
  if (d.target.dev.startsWith("hd")) return "ide";
  return bus === "usb" || bus === "sd" ? "sata" : "scsi";
}

function toDisk(d: DiskDef, meta: LqMetadata | undefined): DiskSpec {
  const id = idFromAlias(d.alias, DISK_ALIAS_PREFIX) ?? d.target.dev;
  const extra = meta?.disks.find((m) => m.id === id);
  const disk: DiskSpec = {
    id,
    bus: busOf(d),
    bootOrder: d.bootOrder ?? 0,
    readonly: d.readonly,
    device: d.device === "cdrom" ? "cdrom" : "disk",
    target: d.target.dev,
  };
  if (d.source !== undefined) disk.resolvedPath = d.source;
  const format = extra?.newImage?.format;
  if (extra?.newImage && (format === "qcow2" || format === "raw")) {
    disk.newImage = { sizeBytes: extra.newImage.sizeBytes, format };
    if (extra.newImage.backingPath !== undefined) disk.newImage.backingPath = extra.newImage.backingPath;
  } else {
    disk.path = extra?.path ?? d.source ?? "";
  }
  return disk;
}

function toNic(i: InterfaceDef): NicSpec | undefined {
  if ((i.type !== "bridge" && i.type !== "network") || i.source === undefined) return undefined;
  const model: NicModel = i.model === "e1000" || i.model === "e1000e" ? "e1000" : i.model === "rtl8139" ? "rtl8139" : "virtio";
  // A NIC defined outside the daemon has no ua- alias: its MAC without colons is a stable id
  // (libvirt's own alias, net0, changes with the device order and is absent from inactive XML).
  const id = idFromAlias(i.alias, NIC_ALIAS_PREFIX) ?? i.mac?.split(":").join("").toLowerCase() ?? "";
  const nic: NicSpec = { id, model };
  if (i.type === "bridge") nic.bridge = i.source;
  else nic.network = i.source;
  if (i.mac !== undefined) nic.mac = i.mac;
  return nic;
}

/** The first VNC or SPICE display; a second display is not part of the spec. */
export function consoleOf(def: DomainDef): ConsoleDetails | undefined {
  const g: GraphicsDef | undefined = def.devices.graphics.find((x) => x.type === "vnc" || x.type === "spice");
  if (!g) return undefined;
  const out: ConsoleDetails = { type: g.type as "vnc" | "spice", autoport: g.autoport };
  // -1 means "not allocated yet" (autoport on a stopped VM).
  if (g.port !== undefined && g.port > 0) out.port = g.port;
  if (g.tlsPort !== undefined && g.tlsPort > 0) out.tlsPort = g.tlsPort;
  const listen = g.listen ?? g.listens.find((l) => l.address !== undefined)?.address;
  if (listen !== undefined) out.listen = listen;
  if (g.passwd !== undefined) out.password = g.passwd;
  return out;
}

function consoleSpecOf(console: ConsoleDetails | undefined): VmSpec["console"] {
  if (!console) return { type: "none" };
  const spec: VmSpec["console"] = { type: console.type };
  if (console.password !== undefined) spec.password = console.password;
  if (console.listen !== undefined) spec.listen = console.listen;
  return spec;
}

export function domainToSpec(def: DomainDef): VmSpec {
  const meta = def.metadata;
  const topology = def.cpu?.topology;
  // libvirt shows a running host-model VM's CPU expanded to mode='custom'; metadata says what was asked.
  const expandedHostModel = def.cpu?.mode === "custom" && meta?.cpuMode === "host-model";
  const mode = expandedHostModel ? "host-model" : (def.cpu?.mode ?? "custom");
  const cpu: VmSpec["cpu"] = {
    sockets: topology?.sockets ?? def.vcpus,
    coresPerSocket: topology?.cores ?? 1,
    threadsPerCore: topology?.threads ?? 1,
    mode: CPU_MODES.includes(mode) ? (mode as CpuMode) : "host-passthrough",
  };
  if (def.cpu?.model && cpu.mode === "custom") cpu.model = def.cpu.model.name;
  const console = consoleOf(def);
  const hostDevices: HostDevice[] = def.devices.hostdevs.flatMap((h) =>
    h.type === "pci" && h.address ? [{ pciAddress: formatPciAddress(h.address), romBar: h.romBar !== "off" }] : [],
  );
  return {
    name: def.name,
    cpu,
    memoryMib: Math.round(def.memoryKib / 1024),
    hugepages: def.hugepages,
    disks: def.devices.disks.map((d) => toDisk(d, meta)),
    nics: def.devices.interfaces.map(toNic).filter((n): n is NicSpec => n !== undefined),
    firmware: def.os.loader !== undefined || def.os.firmware === "efi" ? "uefi" : "bios",
    console: consoleSpecOf(console),
    hostDevices,
    labels: Object.fromEntries((meta?.labels ?? []).map((l) => [l.key, l.value])),
    description: meta?.description ?? def.description ?? "",
  };
}
