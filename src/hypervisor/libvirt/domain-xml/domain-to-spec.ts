// The typed model back to the backend-neutral VmSpec. Devices this project never writes (USB
// disks, direct-attached NICs, ...) are mapped to the nearest spec value or left out, so a VM
// defined by hand still lists.

import type { CpuMode, DiskBus, DiskSpec, HostDevice, NicModel, NicSpec, VmSpec } from "../../types.ts";
import type { DiskDef, DomainDef, GraphicsDef, InterfaceDef, LqMetadata } from "./model.ts";
import { BYTES_PER_MB } from "./configure/disks.ts";
import { KB_PER_MBIT } from "./configure/nics.ts";
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
const CPU_MODES: readonly string[] = ["auto", "host-passthrough", "host-model", "custom", "maximum"];

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
  const askedBus = extra?.bus;
  const disk: DiskSpec = {
    id,
    // The bus asked for, when the machine gave another (IDE on q35 is SATA in the XML).
    bus: askedBus !== undefined && DISK_BUSES.includes(askedBus) ? (askedBus as DiskBus) : busOf(d),
    bootOrder: d.bootOrder ?? 0,
    readonly: d.readonly,
    device: d.device === "cdrom" ? "cdrom" : "disk",
    target: d.target.dev,
  };
  if (d.source !== undefined) disk.resolvedPath = d.source;
  if (extra?.volume !== undefined) disk.volume = extra.volume;
  if (extra?.pool !== undefined) disk.pool = extra.pool;
  const format = extra?.newImage?.format;
  if (extra?.newImage && (format === "qcow2" || format === "raw")) {
    disk.newImage = { sizeBytes: extra.newImage.sizeBytes, format };
    if (extra.newImage.backingPath !== undefined) disk.newImage.backingPath = extra.newImage.backingPath;
  }
  // A volume or a new image was asked for instead of a path: the source is where the node put
  // it. Otherwise the path is the caller's, or (without metadata) the source; an empty CD-ROM
  // drive has none.
  if (extra?.path !== undefined) disk.path = extra.path;
  else if (disk.newImage === undefined && disk.volume === undefined && d.source !== undefined) disk.path = d.source;
  if (d.iotune?.totalIopsSec !== undefined && d.iotune.totalIopsSec > 0) disk.iopsLimit = d.iotune.totalIopsSec;
  if (d.iotune?.totalBytesSec !== undefined && d.iotune.totalBytesSec > 0) disk.throughputMbps = d.iotune.totalBytesSec / BYTES_PER_MB;
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
  // One figure both ways in the spec; libvirt may carry only one direction (a hand-made limit).
  const average = i.bandwidth?.inbound ?? i.bandwidth?.outbound;
  if (average !== undefined && average > 0) nic.bandwidthMbps = average / KB_PER_MBIT;
  if (i.bootOrder !== undefined && i.bootOrder > 0) nic.bootOrder = i.bootOrder;
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
  // A port libvirt allocated (autoport) is not part of the spec; a fixed one is.
  if (!console.autoport && console.port !== undefined) spec.port = console.port;
  return spec;
}

export function domainToSpec(def: DomainDef): VmSpec {
  const meta = def.metadata;
  const topology = def.cpu?.topology;
  // libvirt shows a running host-model VM's CPU expanded to mode='custom'; metadata says what was
  // asked. Auto is written as host-passthrough (KVM) or maximum (TCG).
  const expandedHostModel = def.cpu?.mode === "custom" && meta?.cpuMode === "host-model";
  const resolvedAuto = (def.cpu?.mode === "host-passthrough" || def.cpu?.mode === "maximum") && meta?.cpuMode === "auto";
  const mode = expandedHostModel ? "host-model" : resolvedAuto ? "auto" : (def.cpu?.mode ?? "custom");
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
  const spec: VmSpec = {
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
    guestOs: meta?.guestOs ?? "",
  };
  if (meta?.cloudInitDigest !== undefined) spec.cloudInit = { userData: "", metaData: "", networkConfig: "", vendorData: "", digest: meta.cloudInitDigest };
  return spec;
}
