// libvirt's error (virGetLastError: code, domain, message) turned into a HypervisorError; the
// codes and what they mean are in error-codes.ts (no bun:ffi, so the API thread reads them too).

import { CString, read, type Pointer } from "bun:ffi";
import { HypervisorError, type HypervisorErrorKind } from "../../errors.ts";
import { kindForLibvirtCode } from "./error-codes.ts";
import type { Libvirt } from "./library.ts";

export { isConnectionLost, kindForLibvirtCode, libvirtCodeOf, missingObject, VIR_ERR } from "./error-codes.ts";

export interface LibvirtErrorInfo {
  code: number;
  /** virErrorDomain: which part of libvirt raised it (12 test driver, 10 QEMU, 7 remote, ...). */
  domain: number;
  message: string;
}

/** The calling thread's last libvirt error; reset afterwards so a later success is not blamed. */
export function readLastError(lv: Libvirt): LibvirtErrorInfo {
  const e = lv.sym.virGetLastError();
  if (e === null) return { code: 1, domain: 0, message: "libvirt call failed without an error report" };
  // struct _virError { int code; int domain; char *message; ... }
  const msgPtr = read.ptr(e, 8);
  const info = {
    code: read.i32(e, 0),
    domain: read.i32(e, 4),
    message: msgPtr === 0 ? "" : new CString(msgPtr as Pointer),
  };
  lv.sym.virResetLastError();
  return info;
}

/** A HypervisorError carrying the libvirt code and domain, so they survive a Worker boundary. */
export class LibvirtError extends HypervisorError {
  constructor(
    kind: HypervisorErrorKind,
    message: string,
    readonly code: number,
    readonly errorDomain: number,
  ) {
    super(kind, message);
  }
}

export function toLibvirtError(info: LibvirtErrorInfo, context?: string): LibvirtError {
  const message = context ? `${context}: ${info.message}` : info.message;
  return new LibvirtError(kindForLibvirtCode(info.code), message, info.code, info.domain);
}

/** Reads the last error and throws it. For call sites that just failed. */
export function fail(lv: Libvirt, context?: string): never {
  throw toLibvirtError(readLastError(lv), context);
}
