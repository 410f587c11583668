// Turns what a caller asked for into a complete VmSpec, so backends never guess a default.
// Only `undefined` is filled: mapping proto3 zero values ("", 0, *_UNSPECIFIED) to undefined
// is the caller's job, because only the caller knows which zeros mean "not set".

import type {
  ConsoleSpec,
  CpuSpec,
  DiskSpec,
  HostDevice,
  NewDiskImage,
  NicSpec,
  VmSpec,
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
  return out;
}

/** A fresh, complete spec; the input is not modified. Validate the result with validateVmSpec. */
export function withDefaults(input: VmSpecInput): VmSpec {
  const mode = input.cpu?.mode ?? "host-passthrough";
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
  return {
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
  };
}

/** A locally administered-looking QEMU/KVM MAC (52:54:00 is the prefix libvirt uses). */
export function generateMac(random: () => number = Math.random): string {
  const octet = () => Math.min(255, Math.floor(random() * 256)).toString(16).padStart(2, "0");
  return `${DEFAULT_MAC_PREFIX}:${octet()}:${octet()}:${octet()}`;
}

/** vCPUs the topology gives. */
export const vcpuCount = (cpu: CpuSpec): number => cpu.sockets * cpu.coresPerSocket * cpu.threadsPerCore;

/**
 * Whether two requests ask for the same VM (CreateVM idempotency). Output-only disk fields are
 * ignored, "" equals unset, label order does not matter, list order does.
 */
export function specsEqual(a: VmSpec, b: VmSpec): boolean {
  return deepEqual(stripOutputs(a), stripOutputs(b));
}

function stripOutputs(spec: VmSpec): unknown {
  return {
    ...spec,
    disks: spec.disks.map(({ target: _t, resolvedPath: _r, ...rest }) => rest),
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
