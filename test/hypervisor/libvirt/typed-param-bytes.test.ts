// numberAt (typed-params.ts): each virTypedParameter type read from libvirt's layout; and the
// reused copy a metrics tick reads each record's parameters from (createParamScratch).

import { ptr } from "bun:ffi";
import { describe, expect, test } from "bun:test";
import { createParamScratch, numberAt, type TypedParamBytes } from "../../../src/hypervisor/libvirt/ffi/typed-params.ts";
import { loadLibvirt } from "../../../src/hypervisor/libvirt/ffi/index.ts";
import { encodeTypedParams } from "../../support/typed-param-bytes.ts";

const numbers = (p: TypedParamBytes) => Array.from({ length: p.count }, (_, i) => numberAt(p, i));

describe("numberAt", () => {
  test("every numeric type, 64-bit values up to 2^53 exact; booleans and strings are not numbers", () => {
    const p = encodeTypedParams(
      [
        ["int", -7],
        ["uint", 0xfffffffe],
        ["llong", -(2 ** 40) - 3],
        ["ullong", 2 ** 53 - 1],
        ["small", 5],
        ["double", 0.25],
        ["bool", true],
        ["string", "x"],
      ],
      { int: "INT", uint: "UINT", llong: "LLONG", ullong: "ULLONG", small: "ULLONG", double: "DOUBLE" },
    );
    expect(p.count).toBe(8);
    expect(numbers(p)).toEqual([-7, 0xfffffffe, -(2 ** 40) - 3, 2 ** 53 - 1, 5, 0.25, undefined, undefined]);
  });
});

describe("createParamScratch with libc's memcpy", () => {
  const { copyInto } = loadLibvirt();
  // Arrays outside the scratch buffer stand for libvirt's memory: copyInto reads them by address.
  const native = (count: number, offset: number) => encodeTypedParams(Array.from({ length: count }, (_, i): [string, number] => [`p${i}`, offset + i]));

  test("each copy reads as the array it copied; a longer array grows the buffer; a shorter one after it reads only its own", () => {
    const scratch = createParamScratch(4);
    const small = native(3, 100);
    const large = native(40, 1000);
    const first = scratch.copy(copyInto, ptr(small.bytes), small.count);
    expect(numbers(first)).toEqual([100, 101, 102]);
    expect(numbers(scratch.copy(copyInto, ptr(large.bytes), large.count))).toEqual(numbers(large));
    const again = scratch.copy(copyInto, ptr(small.bytes), small.count);
    expect(again.count).toBe(3);
    expect(numbers(again)).toEqual([100, 101, 102]);
  });

  test("the same buffer serves every array once it is big enough (nothing allocated per record)", () => {
    const scratch = createParamScratch(4);
    const a = native(10, 0);
    const b = native(8, 50);
    const buffer = scratch.copy(copyInto, ptr(a.bytes), a.count).bytes.buffer;
    const second = scratch.copy(copyInto, ptr(b.bytes), b.count);
    expect(second.bytes.buffer).toBe(buffer);
    expect(numbers(second)).toEqual(numbers(b));
  });

  test("a copy longer than its target is refused, not written past it", () => {
    const source = native(2, 0);
    expect(() => copyInto(new Uint8Array(10), ptr(source.bytes), source.bytes.byteLength)).toThrow("cannot copy 192 bytes into a buffer of 10");
  });
});
