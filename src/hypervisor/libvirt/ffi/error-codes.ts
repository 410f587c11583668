// libvirt's error codes (virErrorNumber, virterror.h; checked against libvirt 9 and 10) and the
// one mapping from them to what they mean here: a HypervisorError kind, a lost connection, or
// which object was not found. No bun:ffi: the API thread reads the codes that cross back from
// the Workers, never the error text (messages change between libvirt versions and drivers).

import type { HypervisorErrorKind } from "../../errors.ts";

export const VIR_ERR = {
  INTERNAL_ERROR: 1,
  NO_MEMORY: 2,
  NO_SUPPORT: 3,
  UNKNOWN_HOST: 4,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  XML_DETAIL: 35,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  INVALID_MAC: 44,
  AUTH_FAILED: 45,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  NO_NODE_DEVICE: 53,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  NO_DOMAIN_SNAPSHOT: 72,
  ARGUMENT_UNSUPPORTED: 74,
  SNAPSHOT_REVERT_RISKY: 77,
  OPERATION_ABORTED: 78,
  AUTH_CANCELLED: 79,
  MIGRATE_UNSAFE: 81,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  STORAGE_VOL_EXIST: 90,
  CPU_INCOMPATIBLE: 91,
  XML_INVALID_SCHEMA: 92,
  AUTH_UNAVAILABLE: 94,
  DEVICE_MISSING: 99,
  MULTIPLE_DOMAINS: 110,
} as const;

const KIND_BY_CODE = new Map<number, HypervisorErrorKind>([
  [VIR_ERR.NO_DOMAIN, "not_found"],
  [VIR_ERR.NO_DOMAIN_SNAPSHOT, "not_found"],
  [VIR_ERR.NO_STORAGE_POOL, "not_found"],
  [VIR_ERR.NO_STORAGE_VOL, "not_found"],
  [VIR_ERR.NO_NETWORK, "not_found"],
  [VIR_ERR.NO_NODE_DEVICE, "not_found"],
  [VIR_ERR.DEVICE_MISSING, "not_found"],
  [VIR_ERR.DOM_EXIST, "already_exists"],
  [VIR_ERR.STORAGE_VOL_EXIST, "already_exists"],
  [VIR_ERR.OPERATION_INVALID, "invalid_state"],
  [VIR_ERR.SNAPSHOT_REVERT_RISKY, "invalid_state"],
  [VIR_ERR.RESOURCE_BUSY, "invalid_state"],
  [VIR_ERR.MIGRATE_UNSAFE, "invalid_state"],
  [VIR_ERR.INVALID_ARG, "invalid_argument"],
  [VIR_ERR.XML_ERROR, "invalid_argument"],
  [VIR_ERR.XML_DETAIL, "invalid_argument"],
  [VIR_ERR.XML_INVALID_SCHEMA, "invalid_argument"],
  [VIR_ERR.INVALID_MAC, "invalid_argument"],
  [VIR_ERR.CPU_INCOMPATIBLE, "invalid_argument"],
  [VIR_ERR.NO_SUPPORT, "unsupported"],
  [VIR_ERR.ARGUMENT_UNSUPPORTED, "unsupported"],
  [VIR_ERR.CONFIG_UNSUPPORTED, "unsupported"],
  [VIR_ERR.OPERATION_UNSUPPORTED, "unsupported"],
  [VIR_ERR.SYSTEM_ERROR, "unavailable"],
  [VIR_ERR.RPC, "unavailable"],
  [VIR_ERR.NO_CONNECT, "unavailable"],
  [VIR_ERR.INVALID_CONN, "unavailable"],
  [VIR_ERR.UNKNOWN_HOST, "unavailable"],
  [VIR_ERR.AUTH_FAILED, "unavailable"],
  [VIR_ERR.AUTH_CANCELLED, "unavailable"],
  [VIR_ERR.AUTH_UNAVAILABLE, "unavailable"],
  [VIR_ERR.OPERATION_DENIED, "unavailable"],
  [VIR_ERR.ACCESS_DENIED, "unavailable"],
  [VIR_ERR.AGENT_UNRESPONSIVE, "unavailable"],
  [VIR_ERR.OPERATION_TIMEOUT, "timeout"],
  [VIR_ERR.OPERATION_ABORTED, "cancelled"],
  [VIR_ERR.NO_MEMORY, "resource_exhausted"],
]);

/** The kind a libvirt error code stands for; unknown codes are internal. */
export function kindForLibvirtCode(code: number): HypervisorErrorKind {
  return KIND_BY_CODE.get(code) ?? "internal";
}

/** Errors that mean the connection itself is gone (the worker then reconnects). */
export function isConnectionLost(info: { code: number }): boolean {
  return info.code === VIR_ERR.SYSTEM_ERROR || info.code === VIR_ERR.RPC || info.code === VIR_ERR.INVALID_CONN || info.code === VIR_ERR.NO_CONNECT;
}

/** What a "not found" code says is missing: a VM, a snapshot of it, a pool... */
export type MissingObject = "domain" | "snapshot" | "pool" | "volume" | "network" | "node_device" | "device";

const MISSING_BY_CODE = new Map<number, MissingObject>([
  [VIR_ERR.NO_DOMAIN, "domain"],
  [VIR_ERR.NO_DOMAIN_SNAPSHOT, "snapshot"],
  [VIR_ERR.NO_STORAGE_POOL, "pool"],
  [VIR_ERR.NO_STORAGE_VOL, "volume"],
  [VIR_ERR.NO_NETWORK, "network"],
  [VIR_ERR.NO_NODE_DEVICE, "node_device"],
  [VIR_ERR.DEVICE_MISSING, "device"],
]);

/**
 * libvirt's code on an error, on either side of the Worker boundary: a LibvirtError in the
 * Worker carries `code`, the WorkerCallError the API thread gets carries `libvirtCode`.
 */
export function libvirtCodeOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; libvirtCode?: unknown };
  if (typeof e.libvirtCode === "number") return e.libvirtCode;
  return typeof e.code === "number" ? e.code : undefined;
}

/** Which object a libvirt error says does not exist; undefined for any other error. */
export function missingObject(err: unknown): MissingObject | undefined {
  const code = libvirtCodeOf(err);
  return code === undefined ? undefined : MISSING_BY_CODE.get(code);
}
