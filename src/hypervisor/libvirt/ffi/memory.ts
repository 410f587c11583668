// Small helpers for crossing the C boundary: NUL-terminated inputs, out-parameters, and the
// "copy then free" rule for every char* libvirt returns.

import { CString, ptr, read, type Pointer } from "bun:ffi";
import { HypervisorError } from "../../errors.ts";
import type { Libvirt } from "./library.ts";

/** A NUL-terminated UTF-8 copy of s. A string with an embedded NUL would be cut short in C. */
export function cstr(s: string): Buffer {
  if (s.includes("\0")) throw new HypervisorError("invalid_argument", "a string passed to libvirt contains a NUL character");
  return Buffer.from(`${s}\0`, "utf8");
}

/** What bun:ffi's typings say a "ptr" return may be; at run time it is a number or null. */
export type RawPtr = Pointer | bigint | null;

export function toPtr(p: RawPtr): Pointer | null {
  if (p === null) return null;
  if (typeof p === "bigint") return p === 0n ? null : (Number(p) as Pointer);
  return p === 0 ? null : p;
}

/** Copies a char* that the caller owns and frees it. null stays null (the caller reads the error). */
export function takeString(lv: Libvirt, raw: RawPtr): string | null {
  const p = toPtr(raw);
  if (p === null) return null;
  try {
    return new CString(p);
  } finally {
    lv.free(p);
  }
}

/** Copies a const char* that libvirt keeps owning (virDomainGetName, virConnectGetType). */
export function borrowString(raw: RawPtr): string | null {
  const p = toPtr(raw);
  return p === null ? null : new CString(p);
}

/** One pointer-sized out-parameter (T** style arguments). */
export function outPointer(): { buf: BigUint64Array; addr: Pointer; value(): Pointer | null } {
  const buf = new BigUint64Array(1);
  return {
    buf,
    addr: ptr(buf),
    value() {
      const v = buf[0] ?? 0n;
      return v === 0n ? null : (Number(v) as Pointer);
    },
  };
}

/** Reads the i-th pointer of a C array of pointers. */
export function pointerAt(array: Pointer, index: number): Pointer | null {
  const p = read.ptr(array, index * 8);
  return p === 0 ? null : (p as Pointer);
}

/** The n handles of a libvirt-allocated array (virConnectListAll* out-parameter); the array itself is freed. */
export function takeHandles(lv: Libvirt, array: Pointer | null, n: number): Pointer[] {
  if (array === null) return [];
  const handles: Pointer[] = [];
  for (let i = 0; i < n; i++) {
    const h = pointerAt(array, i);
    if (h !== null) handles.push(h);
  }
  lv.free(array);
  return handles;
}

/**
 * Runs fn over a listing's handles, then frees every one of them, also when fn fails part-way.
 * Each handle holds a reference on its connection: one left over keeps virConnectClose from
 * really closing it (socket and memory stay, libvirtd keeps counting the client).
 */
export function usingAll<T>(handles: readonly Pointer[], free: (h: Pointer) => void, fn: (handles: readonly Pointer[]) => T): T {
  try {
    return fn(handles);
  } finally {
    for (const h of handles) free(h);
  }
}
