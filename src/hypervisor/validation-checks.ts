// The building blocks of validation.ts: limits, patterns, and small checks that read a value as
// `unknown` and throw invalid_argument naming the field. Pure.

import { invalidArgument } from "./errors.ts";

export const MIB = 1024 * 1024;

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
  uriMaxChars: 1024,
  labelsMax: 64,
  labelKeyMaxChars: 63,
  labelValueMaxChars: 256,
  descriptionMaxChars: 4096,
  // qemu's VNC authentication (DES) only uses the first 8 characters; longer passwords would
  // silently be truncated, so we refuse them.
  vncPasswordMaxChars: 8,
  spicePasswordMaxChars: 60,
  /** A file name on Linux filesystems (NAME_MAX). */
  volumeNameMaxChars: 255,
  poolIdMaxChars: 128,
  iopsLimitMax: 10_000_000,
  throughputMbpsMax: 1_000_000,
  bandwidthMbpsMax: 1_000_000,
  /** VNC and SPICE display ports: display :0 and up (5900 + n). */
  consolePortMin: 5900,
  consolePortMax: 65535,
  // cloud-init's NoCloud source has no formal size limit (the data are files on an ISO): this is
  // a practical bound. Real user-data stays far below it, and the data also ride in the domain
  // XML's metadata, which every status call reads. Four parts: at most 256 KiB in all.
  cloudInitPartMaxBytes: 64 * 1024,
  guestOsMaxChars: 64,
} as const;

export type Obj = Record<string, unknown>;

export const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
export const DEVICE_ID_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
export const CPU_MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
export const PCI_RE = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/;
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const LABEL_KEY_RE = /^[A-Za-z0-9._/-]+$/;
export const POOL_ID_RE = /^[A-Za-z0-9._-]+$/;
export const GUEST_OS_RE = /^[a-z0-9_]*$/;
// XML 1.0 (libvirt's domain XML) cannot carry C0 controls other than tab, LF and CR.
export const CONTROL_RE = /[\u0000-\u001f\u007f]/;
export const CONTROL_EXCEPT_WHITESPACE_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const CPU_MODES = ["auto", "host-passthrough", "host-model", "custom", "maximum"] as const;
export const DISK_FORMATS = ["qcow2", "raw"] as const;
export const DISK_BUSES = ["virtio", "scsi", "sata", "ide"] as const;
export const DISK_DEVICES = ["disk", "cdrom"] as const;
export const NIC_MODELS = ["virtio", "e1000", "rtl8139"] as const;
export const FIRMWARES = ["bios", "uefi"] as const;
export const CONSOLE_TYPES = ["vnc", "spice", "none"] as const;

/** A short, safe rendering of a value for an error message (never echoes a huge string). */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return `a value of type ${typeof value}`;
}

export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function object(v: unknown, field: string): Obj {
  if (!isObj(v)) throw invalidArgument(field, `must be an object, got ${show(v)}`);
  return v;
}

export function list(v: unknown, field: string, max: number, what: string): unknown[] {
  if (!Array.isArray(v)) throw invalidArgument(field, `must be a list, got ${show(v)}`);
  if (v.length > max) throw invalidArgument(field, `at most ${max} ${what} are allowed, got ${v.length}`);
  return v;
}

export function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw invalidArgument(field, `must be an integer, got ${show(v)}`);
  if (v < min || v > max) throw invalidArgument(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw invalidArgument(field, `must be true or false, got ${show(v)}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    throw invalidArgument(field, `must be one of ${allowed.join(", ")}, got ${show(v)}`);
  }
  return v as T;
}

/** Optional strings: undefined and "" both mean "not set" (proto3 cannot tell them apart). */
export function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "string") throw invalidArgument(field, `must be a string, got ${show(v)}`);
  if (CONTROL_RE.test(v)) throw invalidArgument(field, "must not contain control characters");
  return v;
}

export function requiredString(v: unknown, field: string): string {
  const s = optionalString(v, field);
  if (s === undefined) throw invalidArgument(field, "must be set");
  return s;
}

export function name(v: unknown, field: string): string {
  const s = requiredString(v, field);
  if (s.length > LIMITS.nameMaxChars) {
    throw invalidArgument(field, `must be at most ${LIMITS.nameMaxChars} characters, got ${s.length}`);
  }
  if (!NAME_RE.test(s)) {
    throw invalidArgument(field, `must use only A-Z a-z 0-9 . _ - and not start with '-' or '.', got ${show(s)}`);
  }
  return s;
}

export function hostPath(v: unknown, field: string): string {
  if (typeof v === "string" && v.includes("\0")) throw invalidArgument(field, "must not contain NUL");
  const s = requiredString(v, field);
  if (s.length > LIMITS.pathMaxChars) throw invalidArgument(field, `must be at most ${LIMITS.pathMaxChars} characters`);
  if (!s.startsWith("/")) throw invalidArgument(field, `must be an absolute path, got ${show(s)}`);
  if (s.split("/").includes("..")) throw invalidArgument(field, `must not contain '..' segments, got ${show(s)}`);
  return s;
}

/**
 * A volume in a pool: a file name (1-255 characters, no '/', not '.' or '..'), or with
 * `relativePath` (a CD-ROM's ISO, looked up under the pools) a relative path whose segments are
 * such names: no leading '/', no '..'.
 */
export function volumeName(v: unknown, field: string, relativePath: boolean): string {
  if (typeof v === "string" && v.includes("\0")) throw invalidArgument(field, "must not contain NUL");
  const s = requiredString(v, field);
  if (s.length > LIMITS.volumeNameMaxChars) {
    throw invalidArgument(field, `must be at most ${LIMITS.volumeNameMaxChars} characters, got ${s.length}`);
  }
  if (s.startsWith("/")) throw invalidArgument(field, `must be a volume name, not an absolute path, got ${show(s)}`);
  const segments = s.split("/");
  if (segments.includes("..")) throw invalidArgument(field, `must not contain '..' segments, got ${show(s)}`);
  if (!relativePath && (segments.length > 1 || s === ".")) {
    throw invalidArgument(field, `must be a file name in the pool (no '/'), got ${show(s)}`);
  }
  return s;
}

/** A storage pool id: also libvirt's pool name and a directory name. */
export function poolId(v: unknown, field: string): string {
  const s = requiredString(v, field);
  if (s.length > LIMITS.poolIdMaxChars || !POOL_ID_RE.test(s) || s === "." || s === "..") {
    throw invalidArgument(field, `must be 1-${LIMITS.poolIdMaxChars} characters of A-Z a-z 0-9 . _ - (not '.' or '..'), got ${show(s)}`);
  }
  return s;
}

/** An optional integer: undefined is unset (0 usually means the same). */
export function optionalInt(v: unknown, field: string, min: number, max: number): number | undefined {
  return v === undefined ? undefined : int(v, field, min, max);
}

/** Linux accepts interface names of 1-15 bytes without '/', ':' or whitespace (dev_valid_name). */
export function ifname(v: unknown, field: string): string {
  const s = requiredString(v, field);
  if (new TextEncoder().encode(s).length > 15) {
    throw invalidArgument(field, `must be a Linux interface name of at most 15 bytes, got ${show(s)}`);
  }
  if (s === "." || s === ".." || /[/:\s]/.test(s)) {
    throw invalidArgument(field, `must be a Linux interface name (no '/', ':' or spaces), got ${show(s)}`);
  }
  return s;
}

export function unique(items: Obj[], key: (o: Obj) => unknown, field: string, listName: string, sub: string): void {
  const seen = new Map<unknown, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined) return;
    const other = seen.get(k);
    if (other !== undefined) throw invalidArgument(`${field}[${i}].${sub}`, `${show(item[subKey(sub)])} is used by ${listName}[${other}]`);
    seen.set(k, i);
  });
}

export const subKey = (sub: string): string => ({ boot_order: "bootOrder" })[sub] ?? sub;
