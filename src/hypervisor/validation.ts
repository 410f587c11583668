// Backend-neutral checks of what a caller asks for. Pure: no I/O. Every failure is a
// HypervisorError("invalid_argument") whose field uses the protobuf (snake_case) names of
// node_daemon.proto, so an API client can find the offending field in its own request.
// The checks read the value as `unknown`: a spec that arrives malformed at runtime must still
// fail with invalid_argument, never with a TypeError.

import { isIP } from "node:net";
import { invalidArgument } from "./errors.ts";
import type { DiskSpec, NicSpec, VmSpec } from "./types.ts";

const MIB = 1024 * 1024;

export const LIMITS = {
  nameMaxChars: 64,
  vcpusMax: 512,
  memoryMibMin: 64,
  memoryMibMax: 16 * MIB, // 16 TiB in MiB
  disksMax: 64,
  nicsMax: 32,
  hostDevicesMax: 16,
  imageBytesMin: MIB,
  imageBytesMax: 64 * MIB * MIB, // 64 TiB
  bootOrderMax: 999,
  pathMaxChars: 4096,
  labelsMax: 64,
  labelKeyMaxChars: 63,
  labelValueMaxChars: 256,
  descriptionMaxChars: 4096,
  // qemu's VNC authentication (DES) only uses the first 8 characters; longer passwords would
  // silently be truncated, so we refuse them.
  vncPasswordMaxChars: 8,
  spicePasswordMaxChars: 60,
} as const;

type Obj = Record<string, unknown>;

const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const DEVICE_ID_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const CPU_MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const PCI_RE = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LABEL_KEY_RE = /^[A-Za-z0-9._/-]+$/;
// XML 1.0 (libvirt's domain XML) cannot carry C0 controls other than tab, LF and CR.
const CONTROL_RE = /[\u0000-\u001f\u007f]/;
const CONTROL_EXCEPT_WHITESPACE_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const CPU_MODES = ["host-passthrough", "host-model", "custom"] as const;
const DISK_FORMATS = ["qcow2", "raw"] as const;
const DISK_BUSES = ["virtio", "scsi", "sata", "ide"] as const;
const DISK_DEVICES = ["disk", "cdrom"] as const;
const NIC_MODELS = ["virtio", "e1000", "rtl8139"] as const;
const FIRMWARES = ["bios", "uefi"] as const;
const CONSOLE_TYPES = ["vnc", "spice", "none"] as const;

/** A short, safe rendering of a value for an error message (never echoes a huge string). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return `a value of type ${typeof value}`;
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function object(v: unknown, field: string): Obj {
  if (!isObj(v)) throw invalidArgument(field, `must be an object, got ${show(v)}`);
  return v;
}

function list(v: unknown, field: string, max: number, what: string): unknown[] {
  if (!Array.isArray(v)) throw invalidArgument(field, `must be a list, got ${show(v)}`);
  if (v.length > max) throw invalidArgument(field, `at most ${max} ${what} are allowed, got ${v.length}`);
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalidArgument(field, `must be an integer, got ${show(v)}`);
  if (v < min || v > max) throw invalidArgument(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw invalidArgument(field, `must be true or false, got ${show(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw invalidArgument(field, `must be one of ${allowed.join(", ")}, got ${show(v)}`);
  }
  return v as T;
}

/** Optional strings: undefined and "" both mean "not set" (proto3 cannot tell them apart). */
function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string") throw invalidArgument(field, `must be a string, got ${show(v)}`);
  if (CONTROL_RE.test(v)) throw invalidArgument(field, "must not contain control characters");
  return v;
}

function requiredString(v: unknown, field: string): string {
  const s = optionalString(v, field);
  if (s === undefined) throw invalidArgument(field, "must be set");
  return s;
}

function name(v: unknown, field: string): string {
  const s = requiredString(v, field);
  if (s.length > LIMITS.nameMaxChars) {
    throw invalidArgument(field, `must be at most ${LIMITS.nameMaxChars} characters, got ${s.length}`);
  }
  if (!NAME_RE.test(s)) {
    throw invalidArgument(field, `must use only A-Z a-z 0-9 . _ - and not start with '-' or '.', got ${show(s)}`);
  }
  return s;
}

function hostPath(v: unknown, field: string): string {
  if (typeof v === "string" && v.includes("\0")) throw invalidArgument(field, "must not contain NUL");
  const s = requiredString(v, field);
  if (s.length > LIMITS.pathMaxChars) throw invalidArgument(field, `must be at most ${LIMITS.pathMaxChars} characters`);
  if (!s.startsWith("/")) throw invalidArgument(field, `must be an absolute path, got ${show(s)}`);
  if (s.split("/").includes("..")) throw invalidArgument(field, `must not contain '..' segments, got ${show(s)}`);
  return s;
}

/** Linux accepts interface names of 1-15 bytes without '/', ':' or whitespace (dev_valid_name). */
function ifname(v: unknown, field: string): string {
  const s = requiredString(v, field);
  if (s.length > 15) throw invalidArgument(field, `must be a Linux interface name of at most 15 characters, got ${show(s)}`);
  if (s === "." || s === ".." || /[/:\s]/.test(s)) {
    throw invalidArgument(field, `must be a Linux interface name (no '/', ':' or spaces), got ${show(s)}`);
  }
  return s;
}

export function validateVmId(id: unknown, field = "vm_id"): void {
  if (typeof id !== "string" || !UUID_RE.test(id)) {
    throw invalidArgument(field, `must be a lowercase UUID like 2f1c4e8a-0b6d-4c3e-9a51-7d2e8f0a1b3c, got ${show(id)}`);
  }
  if (id === "00000000-0000-0000-0000-000000000000") throw invalidArgument(field, "must not be the nil UUID");
}

export function validateMac(v: unknown, field: string): string {
  const s = requiredString(v, field);
  if (!MAC_RE.test(s)) throw invalidArgument(field, `must look like 52:54:00:12:34:56, got ${show(s)}`);
  const firstOctet = Number.parseInt(s.slice(0, 2), 16);
  if (firstOctet % 2 !== 0) throw invalidArgument(field, `must be a unicast address (first octet even), got ${show(s)}`);
  if (/^(00:){5}00$/.test(s)) throw invalidArgument(field, "must not be all zeros");
  return s;
}

export function validateDiskSpec(disk: DiskSpec, field = "disk"): void {
  const d = object(disk as unknown, field);
  const id = requiredString(d.id, `${field}.id`);
  if (!DEVICE_ID_RE.test(id)) {
    throw invalidArgument(`${field}.id`, `must be 1-32 characters of a-z 0-9 _ - starting with a letter or digit, got ${show(id)}`);
  }
  const device = oneOf(d.device, `${field}.device`, DISK_DEVICES);
  const bus = oneOf(d.bus, `${field}.bus`, DISK_BUSES);
  const readonly = bool(d.readonly, `${field}.readonly`);
  int(d.bootOrder, `${field}.boot_order`, 0, LIMITS.bootOrderMax);

  const hasPath = d.path !== undefined && d.path !== "";
  const hasImage = d.newImage !== undefined && d.newImage !== null;
  if (hasPath === hasImage) throw invalidArgument(`${field}.source`, "exactly one of path and new_image must be set");
  if (hasPath) hostPath(d.path, `${field}.path`);
  if (hasImage) {
    const imageField = `${field}.new_image`;
    const image = object(d.newImage, imageField);
    int(image.sizeBytes, `${imageField}.size_bytes`, LIMITS.imageBytesMin, LIMITS.imageBytesMax);
    const format = oneOf(image.format, `${imageField}.format`, DISK_FORMATS);
    if (image.backingPath !== undefined && image.backingPath !== "") {
      if (format !== "qcow2") throw invalidArgument(`${imageField}.backing_path`, "is only allowed for format qcow2");
      hostPath(image.backingPath, `${imageField}.backing_path`);
    }
  }
  if (device === "cdrom") {
    if (!readonly) throw invalidArgument(`${field}.readonly`, "must be true for a cdrom");
    if (bus === "virtio") throw invalidArgument(`${field}.bus`, "a cdrom needs bus sata, scsi or ide (virtio has no removable media)");
    if (hasImage) throw invalidArgument(`${field}.new_image`, "a cdrom needs an existing path (an ISO), not a new image");
  }
}

export function validateNicSpec(nic: NicSpec, field = "nic"): void {
  const n = object(nic as unknown, field);
  const id = requiredString(n.id, `${field}.id`);
  if (!DEVICE_ID_RE.test(id)) {
    throw invalidArgument(`${field}.id`, `must be 1-32 characters of a-z 0-9 _ - starting with a letter or digit, got ${show(id)}`);
  }
  const bridge = optionalString(n.bridge, `${field}.bridge`);
  const network = optionalString(n.network, `${field}.network`);
  if ((bridge === undefined) === (network === undefined)) {
    throw invalidArgument(`${field}.attachment`, "exactly one of bridge and network must be set");
  }
  if (bridge !== undefined) ifname(bridge, `${field}.bridge`);
  if (network !== undefined) name(network, `${field}.network`);
  if (optionalString(n.mac, `${field}.mac`) !== undefined) validateMac(n.mac, `${field}.mac`);
  oneOf(n.model, `${field}.model`, NIC_MODELS);
}

function validateCpu(v: unknown, field: string): void {
  const cpu = object(v, field);
  const sockets = int(cpu.sockets, `${field}.sockets`, 1, LIMITS.vcpusMax);
  const cores = int(cpu.coresPerSocket, `${field}.cores_per_socket`, 1, LIMITS.vcpusMax);
  const threads = int(cpu.threadsPerCore, `${field}.threads_per_core`, 1, LIMITS.vcpusMax);
  const vcpus = sockets * cores * threads;
  if (vcpus > LIMITS.vcpusMax) {
    throw invalidArgument(field, `sockets * cores_per_socket * threads_per_core must be at most ${LIMITS.vcpusMax} vCPUs, got ${vcpus}`);
  }
  const mode = oneOf(cpu.mode, `${field}.mode`, CPU_MODES);
  const model = optionalString(cpu.model, `${field}.model`);
  if (mode === "custom") {
    if (model === undefined) throw invalidArgument(`${field}.model`, "must be set when mode is custom (e.g. \"Skylake-Server\")");
    if (!CPU_MODEL_RE.test(model)) throw invalidArgument(`${field}.model`, `must be a CPU model name like "EPYC-Rome", got ${show(model)}`);
  } else if (model !== undefined) {
    throw invalidArgument(`${field}.model`, `must be empty unless mode is custom (mode is ${mode})`);
  }
}

function validateConsole(v: unknown, field: string): void {
  const console = object(v, field);
  const type = oneOf(console.type, `${field}.type`, CONSOLE_TYPES);
  const password = optionalString(console.password, `${field}.password`);
  if (password !== undefined) {
    if (type === "none") throw invalidArgument(`${field}.password`, "must be empty when the console type is none");
    const max = type === "vnc" ? LIMITS.vncPasswordMaxChars : LIMITS.spicePasswordMaxChars;
    if (password.length > max) {
      throw invalidArgument(`${field}.password`, `must be at most ${max} characters for ${type}, got ${password.length}`);
    }
  }
  const listen = optionalString(console.listen, `${field}.listen`);
  if (listen !== undefined && isIP(listen) === 0) {
    throw invalidArgument(`${field}.listen`, `must be an IPv4 or IPv6 address, got ${show(listen)}`);
  }
}

function validateLabels(v: unknown, field: string): void {
  const labels = object(v, field);
  const keys = Object.keys(labels);
  if (keys.length > LIMITS.labelsMax) throw invalidArgument(field, `at most ${LIMITS.labelsMax} labels are allowed, got ${keys.length}`);
  for (const key of keys) {
    const keyField = `${field}[${show(key)}]`;
    if (key.length === 0 || key.length > LIMITS.labelKeyMaxChars || !LABEL_KEY_RE.test(key)) {
      throw invalidArgument(keyField, `key must be 1-${LIMITS.labelKeyMaxChars} characters of A-Z a-z 0-9 . _ / -`);
    }
    const value = labels[key];
    if (typeof value !== "string") throw invalidArgument(keyField, `value must be a string, got ${show(value)}`);
    if (value.length > LIMITS.labelValueMaxChars) {
      throw invalidArgument(keyField, `value must be at most ${LIMITS.labelValueMaxChars} characters, got ${value.length}`);
    }
    if (CONTROL_RE.test(value)) throw invalidArgument(keyField, "value must not contain control characters");
  }
}

function validateHostDevices(v: unknown, field: string): void {
  const devices = list(v, field, LIMITS.hostDevicesMax, "host devices");
  const seen = new Map<string, number>();
  devices.forEach((raw, i) => {
    const f = `${field}[${i}]`;
    const dev = object(raw, f);
    const address = requiredString(dev.pciAddress, `${f}.pci_address`);
    const m = PCI_RE.exec(address);
    if (!m || Number.parseInt(m[3] ?? "", 16) > 0x1f) {
      throw invalidArgument(`${f}.pci_address`, `must be a PCI address DDDD:BB:SS.F like 0000:01:00.0, got ${show(address)}`);
    }
    const canonical = address.toLowerCase();
    const other = seen.get(canonical);
    if (other !== undefined) throw invalidArgument(`${f}.pci_address`, `${show(address)} is used by host_devices[${other}]`);
    seen.set(canonical, i);
    bool(dev.romBar, `${f}.rom_bar`);
  });
}

/** Reports the first duplicate of key(item) as `<field>[i].<sub>: "x" is used by <list>[j]`. */
function unique(items: Obj[], key: (o: Obj) => unknown, field: string, listName: string, sub: string): void {
  const seen = new Map<unknown, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined) return;
    const other = seen.get(k);
    if (other !== undefined) throw invalidArgument(`${field}[${i}].${sub}`, `${show(item[subKey(sub)])} is used by ${listName}[${other}]`);
    seen.set(k, i);
  });
}

const subKey = (sub: string): string => ({ boot_order: "bootOrder" })[sub] ?? sub;

export function validateVmSpec(spec: VmSpec, path = "spec"): void {
  const s = object(spec as unknown, path);
  name(s.name, `${path}.name`);
  validateCpu(s.cpu, `${path}.cpu`);
  int(s.memoryMib, `${path}.memory.size_mib`, LIMITS.memoryMibMin, LIMITS.memoryMibMax);
  if (bool(s.hugepages, `${path}.memory.hugepages`) && (s.memoryMib as number) % 2 !== 0) {
    throw invalidArgument(`${path}.memory.size_mib`, `must be a multiple of 2 with hugepages (2 MiB pages), got ${s.memoryMib}`);
  }

  const disks = list(s.disks, `${path}.disks`, LIMITS.disksMax, "disks");
  disks.forEach((d, i) => validateDiskSpec(d as DiskSpec, `${path}.disks[${i}]`));
  const diskObjs = disks as Obj[];
  unique(diskObjs, (d) => d.id, `${path}.disks`, "disks", "id");
  unique(diskObjs, (d) => (d.bootOrder === 0 ? undefined : d.bootOrder), `${path}.disks`, "disks", "boot_order");
  // Two writable disks on one image corrupt it; a shared read-only ISO is fine.
  unique(diskObjs, (d) => (typeof d.path === "string" && d.path !== "" && !d.readonly ? d.path : undefined), `${path}.disks`, "disks", "path");

  const nics = list(s.nics, `${path}.nics`, LIMITS.nicsMax, "NICs");
  nics.forEach((n, i) => validateNicSpec(n as NicSpec, `${path}.nics[${i}]`));
  const nicObjs = nics as Obj[];
  unique(nicObjs, (n) => n.id, `${path}.nics`, "nics", "id");
  unique(nicObjs, (n) => (typeof n.mac === "string" && n.mac !== "" ? n.mac.toLowerCase() : undefined), `${path}.nics`, "nics", "mac");

  oneOf(s.firmware, `${path}.firmware`, FIRMWARES);
  validateConsole(s.console, `${path}.console`);
  validateHostDevices(s.hostDevices, `${path}.host_devices`);
  validateLabels(s.labels, `${path}.labels`);

  if (typeof s.description !== "string") throw invalidArgument(`${path}.description`, `must be a string, got ${show(s.description)}`);
  if (s.description.length > LIMITS.descriptionMaxChars) {
    throw invalidArgument(`${path}.description`, `must be at most ${LIMITS.descriptionMaxChars} characters, got ${s.description.length}`);
  }
  if (CONTROL_EXCEPT_WHITESPACE_RE.test(s.description)) {
    throw invalidArgument(`${path}.description`, "must not contain control characters other than tab and newline");
  }
}

/** Snapshot names end up in libvirt XML and in file names of external snapshots. */
export function validateSnapshotName(v: unknown, field = "name"): string {
  return name(v, field);
}

const MIGRATION_SCHEMES = ["qemu", "qemu+tcp", "qemu+tls", "qemu+ssh", "qemu+unix", "tcp"];

/** A libvirt destination URI such as qemu+ssh://node-2.example/system; returns its host. */
export function validateMigrationUri(v: unknown, field = "target_uri"): URL {
  const s = requiredString(v, field);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw invalidArgument(field, `must be a URI like qemu+tls://node-2.example/system, got ${show(s)}`);
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (!MIGRATION_SCHEMES.includes(scheme)) {
    throw invalidArgument(field, `scheme must be one of ${MIGRATION_SCHEMES.join(", ")}, got ${show(scheme)}`);
  }
  if (url.hostname === "") throw invalidArgument(field, `must name the target host, got ${show(s)}`);
  return url;
}
