// virTypedParameter arrays (bulk stats, job stats) read into plain records, and built for
// virDomainMigrateToURI3 through libvirt's own allocator (virTypedParamsAdd*), freed with
// virTypedParamsFree.

import { CString, read, type Pointer } from "bun:ffi";
import type { Libvirt } from "./library.ts";
import { cstr, outPointer } from "./memory.ts";
import { fail } from "./errors.ts";

/** sizeof(virTypedParameter): char field[80]; int type; union value (8-aligned). */
export const TYPED_PARAM_SIZE = 96;
/** VIR_TYPED_PARAM_FIELD_LENGTH: a name and its NUL. */
export const NAME_LENGTH = 80;
const TYPE_OFFSET = 80;
const VALUE_OFFSET = 88;

export type TypedValue = number | string | boolean;

/** virTypedParameterType */
export const PARAM_TYPE = { INT: 1, UINT: 2, LLONG: 3, ULLONG: 4, DOUBLE: 5, BOOLEAN: 6, STRING: 7 } as const;

/** Called with each parameter's name and value, in libvirt's order. */
export type ParamVisitor = (name: string, value: TypedValue) => void;

/**
 * Visits n parameters at base. 64-bit integers become numbers (exact below 2^53: counters are).
 * A reader that needs a few figures out of many (a metrics tick) keeps them as they pass, with
 * no record of every name built first.
 */
export function visitTypedParams(base: Pointer, n: number, visit: ParamVisitor): void {
  for (let i = 0; i < n; i++) {
    const off = i * TYPED_PARAM_SIZE;
    // A primitive string, not the CString object (typeof "object") bun:ffi returns.
    const name = String(new CString(base, off));
    const v = off + VALUE_OFFSET;
    switch (read.i32(base, off + 80)) {
      case PARAM_TYPE.INT:
        visit(name, read.i32(base, v));
        break;
      case PARAM_TYPE.UINT:
        visit(name, read.u32(base, v));
        break;
      case PARAM_TYPE.LLONG:
        visit(name, Number(read.i64(base, v)));
        break;
      case PARAM_TYPE.ULLONG:
        visit(name, Number(read.u64(base, v)));
        break;
      case PARAM_TYPE.DOUBLE:
        visit(name, read.f64(base, v));
        break;
      case PARAM_TYPE.BOOLEAN:
        visit(name, read.i8(base, v) !== 0);
        break;
      case PARAM_TYPE.STRING: {
        const s = read.ptr(base, v);
        visit(name, s === 0 ? "" : String(new CString(s as Pointer)));
        break;
      }
      default:
        break; // a type newer than this code: skipped, not guessed
    }
  }
}

/**
 * A parameter array seen in place through typed views of the same bytes (native byte order:
 * little-endian on the x86_64 and aarch64 hosts the daemon runs on), for readers that pick a
 * few figures out of many without making a string of every name (param-names.ts).
 */
export interface TypedParamBytes {
  count: number;
  bytes: Uint8Array;
  i32: Int32Array;
  u32: Uint32Array;
  f64: Float64Array;
}

/** Views over an array laid out as libvirt's (TYPED_PARAM_SIZE bytes each). */
export function typedParamBytes(buffer: ArrayBuffer): TypedParamBytes {
  return {
    count: Math.floor(buffer.byteLength / TYPED_PARAM_SIZE),
    bytes: new Uint8Array(buffer),
    i32: new Int32Array(buffer),
    u32: new Uint32Array(buffer),
    f64: new Float64Array(buffer),
  };
}

/** What copies libvirt's bytes into a JS buffer (Libvirt.copyInto: libc memcpy). */
export type CopyInto = (target: Uint8Array, source: Pointer, length: number) => void;

/**
 * Parameter arrays read one at a time from a copy in one buffer, reused from array to array. A
 * view straight over libvirt's memory (toArrayBuffer) copies nothing, but JavaScriptCore counts
 * each such ArrayBuffer's size as memory allocated: every record's parameters, every metrics
 * tick (bench/README.md, "Garbage a tick leaves"). One memcpy per array allocates nothing once
 * the buffer is big enough. An answer holds until the next copy.
 */
export interface ParamScratch {
  copy(copyInto: CopyInto, base: Pointer, n: number): TypedParamBytes;
}

export function createParamScratch(initialParams = 64): ParamScratch {
  let views = typedParamBytes(new ArrayBuffer(initialParams * TYPED_PARAM_SIZE));
  return {
    copy(copyInto, base, n) {
      const length = n * TYPED_PARAM_SIZE;
      if (length > views.bytes.byteLength) views = typedParamBytes(new ArrayBuffer(Math.max(length, views.bytes.byteLength * 2)));
      copyInto(views.bytes, base, length);
      views.count = n;
      return views;
    },
  };
}

/** Parameter i's value when it is a number (64-bit integers exact below 2^53), else undefined. */
export function numberAt(p: TypedParamBytes, i: number): number | undefined {
  const word = (i * TYPED_PARAM_SIZE + VALUE_OFFSET) / 4;
  switch (p.i32[(i * TYPED_PARAM_SIZE + TYPE_OFFSET) / 4]) {
    case PARAM_TYPE.INT:
      return p.i32[word];
    case PARAM_TYPE.UINT:
      return p.u32[word];
    case PARAM_TYPE.LLONG:
      return (p.i32[word + 1] as number) * 2 ** 32 + (p.u32[word] as number);
    case PARAM_TYPE.ULLONG:
      return (p.u32[word + 1] as number) * 2 ** 32 + (p.u32[word] as number);
    case PARAM_TYPE.DOUBLE:
      return p.f64[word / 2];
    default:
      return undefined; // a boolean, a string, or a type newer than this code
  }
}

/** Reads n parameters at base into a record keyed by name. */
export function readTypedParams(base: Pointer, n: number): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  visitTypedParams(base, n, (name, value) => {
    out[name] = value;
  });
  return out;
}

/** Unsigned 64-bit values, strings, and string lists (one entry per item, e.g. migrate_disks). */
export type ParamValues = Record<string, bigint | string | readonly string[]>;

/** A libvirt-allocated parameter list. Call free() when done. */
export function buildParams(lv: Libvirt, values: ParamValues): { params: Pointer | null; count: number; free(): void } {
  const list = outPointer();
  const count = new Int32Array(1);
  const max = new Int32Array(1);
  const add = (name: string, value: bigint | string) =>
    typeof value === "bigint"
      ? lv.sym.virTypedParamsAddULLong(list.addr, count, max, cstr(name), value)
      : lv.sym.virTypedParamsAddString(list.addr, count, max, cstr(name), cstr(value));
  for (const [name, value] of Object.entries(values)) {
    for (const one of typeof value === "bigint" || typeof value === "string" ? [value] : value) {
      if (add(name, one) < 0) {
        const p = list.value();
        if (p) lv.sym.virTypedParamsFree(p, count[0] ?? 0);
        fail(lv, `typed parameter ${name}`);
      }
    }
  }
  const params = list.value();
  return {
    params,
    count: count[0] ?? 0,
    free() {
      if (params) lv.sym.virTypedParamsFree(params, count[0] ?? 0);
    },
  };
}
