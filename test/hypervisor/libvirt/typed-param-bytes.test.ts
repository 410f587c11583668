// numberAt (typed-params.ts): each virTypedParameter type read in place from libvirt's layout.

import { describe, expect, test } from "bun:test";
import { numberAt } from "../../../src/hypervisor/libvirt/ffi/typed-params.ts";
import { encodeTypedParams } from "../../support/typed-param-bytes.ts";

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
    expect(Array.from({ length: p.count }, (_, i) => numberAt(p, i))).toEqual([-7, 0xfffffffe, -(2 ** 40) - 3, 2 ** 53 - 1, 5, 0.25, undefined, undefined]);
  });
});
