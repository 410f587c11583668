// Typed parameters laid out as libvirt lays out a virTypedParameter array (96 bytes each: the
// name and its NUL in 80, the type at 80, the value at 88, native byte order), for tests of
// readers that read them in place (typed-params.ts numberAt, vm-figures.ts figuresOf).

import { PARAM_TYPE, type TypedParamBytes, typedParamBytes, TYPED_PARAM_SIZE, type TypedValue } from "../../src/hypervisor/libvirt/ffi/typed-params.ts";

export type ParamType = keyof typeof PARAM_TYPE;

/** The type libvirt would give a value like this one (it uses ULLONG for counters). */
function typeOf(value: TypedValue): ParamType {
  if (typeof value === "string") return "STRING";
  if (typeof value === "boolean") return "BOOLEAN";
  if (!Number.isInteger(value)) return "DOUBLE";
  return value < 0 ? "LLONG" : "ULLONG";
}

/** Each parameter in order; a type may be forced per name (otherwise typeOf's). Strings point nowhere (NULL). */
export function encodeTypedParams(params: Record<string, TypedValue> | [string, TypedValue][], types: Record<string, ParamType> = {}): TypedParamBytes {
  const entries = Array.isArray(params) ? params : Object.entries(params);
  const buffer = new ArrayBuffer(entries.length * TYPED_PARAM_SIZE);
  const view = new DataView(buffer);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  entries.forEach(([name, value], i) => {
    const at = i * TYPED_PARAM_SIZE;
    const bytes = new TextEncoder().encode(name);
    if (bytes.length > 79) throw new Error(`name ${name} is longer than libvirt allows`);
    new Uint8Array(buffer, at, bytes.length).set(bytes);
    const type = types[name] ?? typeOf(value);
    view.setInt32(at + 80, PARAM_TYPE[type], little);
    const v = at + 88;
    if (type === "INT") view.setInt32(v, value as number, little);
    else if (type === "UINT") view.setUint32(v, value as number, little);
    else if (type === "LLONG") view.setBigInt64(v, BigInt(value as number), little);
    else if (type === "ULLONG") view.setBigUint64(v, BigInt(value as number), little);
    else if (type === "DOUBLE") view.setFloat64(v, value as number, little);
    else if (type === "BOOLEAN") view.setInt8(v, value ? 1 : 0);
  });
  return typedParamBytes(buffer);
}
