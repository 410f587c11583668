// The contract's VMSpec (plus CreateVMOnNodeRequest's name and labels) <-> VmSpec in the
// hypervisor model. Reading from the wire fills what the control plane leaves to the node (ids,
// boot order, the console, NIC networks) and rejects values this build does not know, naming the
// field; deeper rules (ranges, names, uniqueness) live in hypervisor/validation.ts.

import { create } from "@bufbuild/protobuf";
import {
  type CdromSpec as PCdromSpec,
  CdromSpecSchema,
  type DiskSpec as PDiskSpec,
  DiskSpecSchema,
  type NicSpec as PNicSpec,
  NicSpecSchema,
  type VMSpec,
  VMSpecSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { CloudInit, DiskSpec, NicSpec, VmSpec } from "../../hypervisor/types.ts";
import { diskWithDefaults, type DiskSpecInput, nicWithDefaults, type NicSpecInput, withDefaults } from "../../hypervisor/defaults.ts";
import { invalidField } from "../errors.ts";
import { type BootClass, bootDevice, cpuMode, diskBus, diskFormat, firmware, nicModel } from "./enums.ts";
import { libvirtNetworkFor } from "./network-name.ts";

const GIB = 1024 ** 3;

/** What the wire leaves to this node. */
export interface SpecDefaults {
  /** libvirt network for NICs that name none, or name one of the control plane's network ids. */
  defaultNetwork: string;
}

const unset = <T>(v: T): T | undefined => (v === "" || v === 0 ? undefined : v);

function known<T>(value: T | undefined, field: string, raw: number, names: string[]): T {
  if (value === undefined) throw invalidField(field, `unknown value ${raw}; allowed: ${names.join(", ")}`);
  return value;
}

/** uint64 sizes arrive as bigint; anything past 2^53 is far beyond every limit anyway. */
function safeNumber(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidField(field, `value ${v} is too large`);
  return Number(v);
}

/** An absolute path names a file; anything else a volume (disks) or a pool-relative ISO (CD-ROMs). */
function location(value: string): { path?: string; volume?: string } {
  if (value === "") return {};
  return value.startsWith("/") ? { path: value } : { volume: value };
}

function diskInput(p: PDiskSpec, index: number, field: string): DiskSpecInput {
  const sizeGib = safeNumber(p.sizeGib, `${field}.size_gib`);
  const format = known(diskFormat.fromWire(p.format), `${field}.format`, p.format, diskFormat.names);
  const where = location(p.path);
  // size_gib and backing_file describe an image the node creates: never one given by path.
  const creates = where.path === undefined && (sizeGib > 0 || p.backingFile !== "");
  if (where.path === undefined && where.volume === undefined && !creates) {
    throw invalidField(
      `${field}.path`,
      "give an existing image (an absolute path, or a volume name in pool_id's pool), or size_gib or backing_file for a new one",
    );
  }
  return stripUndefined({
    id: p.id || `disk${index}`,
    ...where,
    newImage: creates ? stripUndefined({ sizeBytes: sizeGib * GIB, format, backingPath: unset(p.backingFile) }) : undefined,
    pool: unset(p.poolId),
    bus: known(diskBus.fromWire(p.bus), `${field}.bus`, p.bus, diskBus.names),
    readonly: p.readonly,
    device: "disk" as const,
    iopsLimit: unset(safeNumber(p.iopsLimit, `${field}.iops_limit`)),
    throughputMbps: unset(safeNumber(p.throughputMbps, `${field}.throughput_mbps`)),
  });
}

function cdromInput(p: PCdromSpec, index: number): DiskSpecInput {
  return stripUndefined({ id: p.id || `cdrom-${index}`, ...location(p.isoPath), device: "cdrom" as const, bus: "sata" as const, readonly: true });
}

function nicInput(p: PNicSpec, index: number, field: string, defaults: SpecDefaults): NicSpecInput {
  return stripUndefined({
    id: p.id || `nic${index}`,
    bridge: unset(p.bridge),
    network: p.bridge ? undefined : libvirtNetworkFor(p.network, defaults.defaultNetwork),
    mac: unset(p.macAddress.toLowerCase()),
    model: known(nicModel.fromWire(p.model), `${field}.model`, p.model, nicModel.names),
    bandwidthMbps: unset(safeNumber(p.bandwidthMbps, `${field}.bandwidth_mbps`)),
  });
}

/**
 * Per-device boot order from the contract's device classes. Each class boots its flagged
 * devices, or its first device when none is flagged; the network class is used only when asked
 * for (PXE after an empty disk stalls every boot). No classes given: disk then CD-ROM, or CD-ROM
 * first when a CD-ROM is flagged bootable (the reference's rule).
 */
function assignBootOrder(spec: VMSpec, disks: DiskSpecInput[], cdroms: DiskSpecInput[], nics: NicSpecInput[], field: string): void {
  const classes: BootClass[] = spec.bootOrder.length
    ? spec.bootOrder.map((b, i) => known(bootDevice.fromWire(b), `${field}.boot_order[${i}]`, b, bootDevice.names))
    : spec.cdroms.some((c) => c.bootable)
      ? ["cdrom", "disk"]
      : ["disk", "cdrom"];
  const flagged = {
    disk: disks.filter((_, i) => spec.disks[i]!.bootable),
    cdrom: cdroms.filter((_, i) => spec.cdroms[i]!.bootable),
  };
  let order = 1;
  for (const cls of new Set(classes)) {
    if (cls === "network") {
      if (nics[0]) nics[0].bootOrder = order++;
      continue;
    }
    const all = cls === "disk" ? disks : cdroms;
    const chosen = flagged[cls].length ? flagged[cls] : all.slice(0, 1);
    for (const d of chosen) d.bootOrder = order++;
  }
}

function consoleInput(spec: VMSpec, field: string): VmSpec["console"] {
  const c = spec.console;
  if (!c) return { type: "vnc" };
  if (c.vncEnabled && c.spiceEnabled) throw invalidField(`${field}.console`, "enable one of vnc_enabled and spice_enabled: a VM has one console here");
  const listen = unset(c.listen);
  if (c.vncEnabled) return stripUndefined({ type: "vnc" as const, port: unset(c.vncPort), password: unset(c.vncPassword), listen });
  if (c.spiceEnabled) return stripUndefined({ type: "spice" as const, port: unset(c.spicePort), password: unset(c.vncPassword), listen });
  return { type: "none" };
}

/**
 * cloud-init runs when data is given, and for disks on a backing image (cloud images wait for a
 * datasource at boot): then with the node's generated meta-data and hostname only.
 */
function cloudInitInput(spec: VMSpec): CloudInit | undefined {
  const c = spec.cloudInit;
  const data: CloudInit = { userData: c?.userData ?? "", metaData: c?.metaData ?? "", networkConfig: c?.networkConfig ?? "", vendorData: c?.vendorData ?? "" };
  const given = Object.values(data).some((v) => v !== "");
  return given || spec.disks.some((d) => d.backingFile !== "") ? data : undefined;
}

export interface VmRequest {
  name: string;
  spec?: VMSpec | undefined;
  labels: Record<string, string>;
}

export function vmSpecFromWire(req: VmRequest, defaults: SpecDefaults, field = "spec"): VmSpec {
  const p = req.spec;
  if (!p) throw invalidField(field, "is required");
  const disks = p.disks.map((d, i) => diskInput(d, i, `${field}.disks[${i}]`));
  const cdroms = p.cdroms.map((c, i) => cdromInput(c, i));
  const nics = p.nics.map((n, i) => nicInput(n, i, `${field}.nics[${i}]`, defaults));
  if (nics.length === 0) nics.push({ id: "nic0", network: defaults.defaultNetwork });
  assignBootOrder(p, disks, cdroms, nics, field);
  const mode = known(cpuMode.fromWire(p.cpuMode), `${field}.cpu_mode`, p.cpuMode, cpuMode.names);
  return withDefaults(
    stripUndefined({
      name: req.name,
      cpu: stripUndefined({
        sockets: unset(p.cpuSockets),
        coresPerSocket: unset(p.cpuCores),
        threadsPerCore: unset(p.cpuThreadsPerCore),
        mode,
        model: unset(p.cpuModel),
      }),
      memoryMib: safeNumber(p.memoryMib, `${field}.memory_mib`),
      hugepages: p.memoryHugepages,
      disks: [...disks, ...cdroms],
      nics,
      firmware: known(firmware.fromWire(p.firmware), `${field}.firmware`, p.firmware, firmware.names),
      console: consoleInput(p, field),
      hostDevices: p.hostDevices.map((h) => ({ pciAddress: h.pciAddress.toLowerCase(), romBar: !h.disableRomBar })),
      labels: { ...req.labels },
      description: p.description,
      cloudInit: cloudInitInput(p),
      guestOs: p.guestOs,
    }),
  );
}

/** AttachDisk's disk: numbered after the VM's existing disks only for a generated id. */
export const diskFromWire = (p: PDiskSpec, field: string, index = 0): DiskSpec => diskWithDefaults(diskInput(p, index, field));
export const nicFromWire = (p: PNicSpec, field: string, defaults: SpecDefaults, index = 0): NicSpec => nicWithDefaults(nicInput(p, index, field, defaults));

/** Objects without undefined-valued keys (the model's optional fields are absent, never undefined). */
function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function diskToWire(d: DiskSpec): PDiskSpec {
  return create(DiskSpecSchema, {
    id: d.id,
    path: d.path ?? d.volume ?? "",
    sizeGib: BigInt(Math.ceil((d.newImage?.sizeBytes ?? 0) / GIB)),
    bus: diskBus.toWire(d.bus),
    format: diskFormat.toWire(d.newImage?.format ?? "qcow2"),
    readonly: d.readonly,
    bootable: d.bootOrder > 0,
    iopsLimit: BigInt(d.iopsLimit ?? 0),
    throughputMbps: BigInt(d.throughputMbps ?? 0),
    backingFile: d.newImage?.backingPath ?? "",
    poolId: d.pool ?? "",
    target: d.target ?? "",
    resolvedPath: d.resolvedPath ?? "",
  });
}

export function cdromToWire(d: DiskSpec): PCdromSpec {
  return create(CdromSpecSchema, {
    id: d.id,
    isoPath: d.path ?? d.volume ?? "",
    bootable: d.bootOrder > 0,
    target: d.target ?? "",
    resolvedPath: d.resolvedPath ?? "",
  });
}

export function nicToWire(n: NicSpec): PNicSpec {
  return create(NicSpecSchema, {
    id: n.id,
    macAddress: n.mac ?? "",
    bridge: n.bridge ?? "",
    network: n.network ?? "",
    model: nicModel.toWire(n.model),
    bandwidthMbps: BigInt(n.bandwidthMbps ?? 0),
  });
}

/** Device classes in the order their first device boots. */
function bootClassesOf(s: VmSpec): BootClass[] {
  const first = new Map<BootClass, number>();
  const note = (cls: BootClass, order: number | undefined) => {
    if (order && order > 0 && (first.get(cls) ?? Infinity) > order) first.set(cls, order);
  };
  for (const d of s.disks) note(d.device === "cdrom" ? "cdrom" : "disk", d.bootOrder);
  for (const n of s.nics) note("network", n.bootOrder);
  return [...first].sort((a, b) => a[1] - b[1]).map(([cls]) => cls);
}

/**
 * The console password and cloud-init data are secrets (passwords, keys): statuses and
 * listings never carry them (GetConsole gives the password to whoever may open the console).
 */
export function vmSpecToWire(s: VmSpec): VMSpec {
  const c = s.console;
  return create(VMSpecSchema, {
    cpuCores: s.cpu.coresPerSocket,
    cpuSockets: s.cpu.sockets,
    cpuThreadsPerCore: s.cpu.threadsPerCore,
    memoryMib: BigInt(s.memoryMib),
    memoryHugepages: s.hugepages,
    firmware: firmware.toWire(s.firmware),
    bootOrder: bootClassesOf(s).map(bootDevice.toWire),
    disks: s.disks.filter((d) => d.device === "disk").map(diskToWire),
    nics: s.nics.map(nicToWire),
    cdroms: s.disks.filter((d) => d.device === "cdrom").map(cdromToWire),
    console: {
      vncEnabled: c.type === "vnc",
      vncPort: c.type === "vnc" ? (c.port ?? 0) : 0,
      spiceEnabled: c.type === "spice",
      spicePort: c.type === "spice" ? (c.port ?? 0) : 0,
      listen: c.listen ?? "",
    },
    guestOs: s.guestOs,
    cpuMode: cpuMode.toWire(s.cpu.mode),
    cpuModel: s.cpu.model ?? "",
    hostDevices: s.hostDevices.map((h) => ({ pciAddress: h.pciAddress, disableRomBar: !h.romBar })),
    description: s.description,
  });
}
