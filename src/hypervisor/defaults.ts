import { createHash } from "node:crypto";
// Turns what a caller asked for into a complete VmSpec, so backends never guess a default.
// Only `undefined` is filled: mapping proto3 zero values ("", 0, *_UNSPECIFIED) to undefined
// is the caller's job, because only the caller knows which zeros mean "not set".

import {
  CLOUD_INIT_CDROM_ID,
  type CloudInit,
  type ConsoleSpec,
  type CpuSpec,
  type DiskSpec,
  type HostDevice,
  type NewDiskImage,
  type NicSpec,
  type VmSpec,
} from "./types.ts";

export interface NewDiskImageInput extends Partial<NewDiskImage> {
  sizeBytes: number;
}

/** Output-only fields (target, resolvedPath) are not part of a request. */
export interface DiskSpecInput extends Partial<Omit<DiskSpec, "newImage" | "target" | "resolvedPath">> {
  id: string;
  newImage?: NewDiskImageInput;
}

export interface NicSpecInput extends Partial<NicSpec> {
  id: string;
}

export interface VmSpecInput {
  name: string;
  cpu?: Partial<CpuSpec>;
  memoryMib: number;
  hugepages?: boolean;
  disks?: DiskSpecInput[];
  nics?: NicSpecInput[];
  firmware?: VmSpec["firmware"];
  console?: Partial<ConsoleSpec>;
  hostDevices?: Array<Partial<HostDevice> & { pciAddress: string }>;
  labels?: Record<string, string>;
  description?: string;
  /** Absent: no cloud-init; missing parts are empty. */
  cloudInit?: Partial<CloudInit>;
  guestOs?: string;
}

export const DEFAULT_MAC_PREFIX = "52:54:00";

export function diskWithDefaults(disk: DiskSpecInput): DiskSpec {
  const device = disk.device ?? "disk";
  const out: DiskSpec = {
    id: disk.id,
    // virtio has no removable media, so a cdrom defaults to SATA (what virt-manager picks).
    bus: disk.bus ?? (device === "cdrom" ? "sata" : "virtio"),
    bootOrder: disk.bootOrder ?? 0,
    readonly: disk.readonly ?? device === "cdrom",
    device,
  };
  if (disk.path !== undefined) out.path = disk.path;
  if (disk.volume !== undefined) out.volume = disk.volume;
  if (disk.pool !== undefined) out.pool = disk.pool;
  if (disk.iopsLimit !== undefined) out.iopsLimit = disk.iopsLimit;
  if (disk.throughputMbps !== undefined) out.throughputMbps = disk.throughputMbps;
  if (disk.newImage !== undefined) {
    const image: NewDiskImage = { sizeBytes: disk.newImage.sizeBytes, format: disk.newImage.format ?? "qcow2" };
    if (disk.newImage.backingPath !== undefined) image.backingPath = disk.newImage.backingPath;
    out.newImage = image;
  }
  return out;
}

export function nicWithDefaults(nic: NicSpecInput): NicSpec {
  const out: NicSpec = { id: nic.id, model: nic.model ?? "virtio" };
  if (nic.bridge !== undefined) out.bridge = nic.bridge;
  if (nic.network !== undefined) out.network = nic.network;
  if (nic.mac !== undefined) out.mac = nic.mac;
  if (nic.bandwidthMbps !== undefined) out.bandwidthMbps = nic.bandwidthMbps;
  if (nic.bootOrder !== undefined) out.bootOrder = nic.bootOrder;
  return out;
}

/** A fresh, complete spec; the input is not modified. Validate the result with validateVmSpec. */
export function withDefaults(input: VmSpecInput): VmSpec {
  // auto: the host's CPU under KVM, QEMU's maximum CPU under TCG (the backend knows which).
  const mode = input.cpu?.mode ?? "auto";
  const cpu: CpuSpec = {
    sockets: input.cpu?.sockets ?? 1,
    coresPerSocket: input.cpu?.coresPerSocket ?? 1,
    threadsPerCore: input.cpu?.threadsPerCore ?? 1,
    mode,
  };
  if (input.cpu?.model !== undefined) cpu.model = input.cpu.model;
  const console: ConsoleSpec = { type: input.console?.type ?? "vnc" };
  if (input.console?.password !== undefined) console.password = input.console.password;
  if (input.console?.listen !== undefined) console.listen = input.console.listen;
  if (input.console?.port !== undefined) console.port = input.console.port;
  const spec: VmSpec = {
    name: input.name,
    cpu,
    memoryMib: input.memoryMib,
    hugepages: input.hugepages ?? false,
    disks: (input.disks ?? []).map(diskWithDefaults),
    nics: (input.nics ?? []).map(nicWithDefaults),
    firmware: input.firmware ?? "bios",
    console,
    hostDevices: (input.hostDevices ?? []).map((d) => ({ pciAddress: d.pciAddress, romBar: d.romBar ?? true })),
    labels: { ...(input.labels ?? {}) },
    description: input.description ?? "",
    guestOs: input.guestOs ?? "",
  };
  if (input.cloudInit !== undefined) {
    const c = input.cloudInit;
    spec.cloudInit = { userData: c.userData ?? "", metaData: c.metaData ?? "", networkConfig: c.networkConfig ?? "", vendorData: c.vendorData ?? "" };
  }
  return spec;
}

/** A locally administered-looking QEMU/KVM MAC (52:54:00 is the prefix libvirt uses). */
export function generateMac(random: () => number = Math.random): string {
  const octet = () =>
    Math.min(255, Math.floor(random() * 256))
      .toString(16)
      .padStart(2, "0");
  return `${DEFAULT_MAC_PREFIX}:${octet()}:${octet()}:${octet()}`;
}

/** vCPUs the topology gives. */
export const vcpuCount = (cpu: CpuSpec): number => cpu.sockets * cpu.coresPerSocket * cpu.threadsPerCore;

/** The CD-ROM the node adds for cloud-init: part of a VM's spec as read back, never of a request. */
export const isNodeCdrom = (disk: Pick<DiskSpec, "id" | "device">): boolean => disk.id === CLOUD_INIT_CDROM_ID && disk.device === "cdrom";

/**
 * Whether two requests ask for the same VM (CreateVM idempotency). Output-only disk fields and
 * the node's own CD-ROM are ignored, "" equals unset, a limit, boot order or port of 0 equals
 * unset, label order does not matter, list order does.
 */
export function specsEqual(a: VmSpec, b: VmSpec): boolean {
  return deepEqual(stripOutputs(a), stripOutputs(b));
}

const zeroUnset = (n: number | undefined) => (n === 0 ? undefined : n);

/** SHA-256 over the four NoCloud parts, each length-prefixed so no two requests share a digest. */
export function cloudInitDigest(ci: CloudInit): string {
  const h = createHash("sha256");
  for (const part of [ci.userData, ci.metaData, ci.networkConfig, ci.vendorData]) {
    const bytes = Buffer.from(part ?? "", "utf8");
    h.update(`${bytes.length}:`);
    h.update(bytes);
  }
  return h.digest("hex");
}

/** A read-back spec carries the digest; a request the data: both compare as the digest. */
const cloudInitKey = (ci: CloudInit | undefined) => (ci === undefined ? undefined : (ci.digest ?? cloudInitDigest(ci)));

function stripOutputs(spec: VmSpec): unknown {
  return {
    ...spec,
    disks: spec.disks
      .filter((d) => !isNodeCdrom(d))
      .map(({ target: _t, resolvedPath: _r, ...rest }) => ({
        ...rest,
        iopsLimit: zeroUnset(rest.iopsLimit),
        throughputMbps: zeroUnset(rest.throughputMbps),
      })),
    nics: spec.nics.map((n) => ({ ...n, bandwidthMbps: zeroUnset(n.bandwidthMbps), bootOrder: zeroUnset(n.bootOrder) })),
    console: { ...spec.console, port: zeroUnset(spec.console.port) },
    cloudInit: cloudInitKey(spec.cloudInit),
    // As sorted entries, so a label with an empty value still differs from no label.
    labels: Object.entries(spec.labels).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
  };
}

const isUnset = (v: unknown): boolean => v === undefined || v === "";

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isUnset(a) && isUnset(b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) if (!deepEqual(ra[k], rb[k])) return false;
  return true;
}
