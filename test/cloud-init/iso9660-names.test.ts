// Names in the two trees: validation of the real (Joliet) names, their d-character copies in
// the primary tree, uniqueness, and the directory order ECMA-119 9.3 asks for.

import { describe, expect, test } from "bun:test";
import {
  checkFileNames,
  compareJoliet,
  comparePrimary,
  dCharacters,
  primaryIdentifier,
  primaryName,
  primaryNames,
} from "../../src/cloud-init/iso9660-names.ts";
import { HypervisorError } from "../../src/hypervisor/errors.ts";

function rejection(names: string[]): HypervisorError {
  try {
    checkFileNames(names);
  } catch (err) {
    if (err instanceof HypervisorError) return err;
    throw err;
  }
  throw new Error(`${JSON.stringify(names)} was accepted`);
}

describe("d-characters (7.4.1)", () => {
  test.each([
    ["user-data", "USER_DATA"],
    ["network-config", "NETWORK_CONFIG"],
    ["Mixed_Case9", "MIXED_CASE9"],
    ["a b+c~é😀", "A_B_C___"],
    ["", ""],
  ])("%p -> %p", (input, out) => expect(dCharacters(input)).toBe(out));
});

describe("primary identifiers (7.5.1)", () => {
  test.each([
    ["user-data", "USER_DATA.;1"],
    ["meta-data", "META_DATA.;1"],
    ["network-config", "NETWORK_CONFIG.;1"],
    ["vendor-data", "VENDOR_DATA.;1"],
    ["readme.txt", "README.TXT;1"],
    ["a.b.c", "A_B.C;1"],
    [".hidden", ".HIDDEN;1"],
    ["x".repeat(64), `${"X".repeat(30)}.;1`],
    [`${"n".repeat(40)}.extension-long`, `${"N".repeat(22)}.EXTENSIO;1`],
  ])("%p -> %p", (real, id) => {
    const p = primaryName(real);
    expect(primaryIdentifier(p)).toBe(id);
    expect(p.name.length + p.extension.length).toBeLessThanOrEqual(30);
  });

  test("names that map alike get numbered suffixes, whatever the input order", () => {
    const reals = ["a_b", "a-b", "A-B", "a b"];
    const ids = (names: string[]) => new Map(names.map((n, i) => [n, primaryIdentifier(primaryNames(names)[i]!)]));
    const forward = ids(reals);
    expect([...forward.values()].sort()).toEqual(["A_B.;1", "A_B_1.;1", "A_B_2.;1", "A_B_3.;1"]);
    expect(ids([...reals].reverse())).toEqual(forward);
  });

  test("a suffix on a full-length name still fits in 30 characters", () => {
    // "xxx-" sorts before "xxxx" ('-' < 'x'), so it keeps the plain name.
    const [a, b] = primaryNames(["x".repeat(40), `${"x".repeat(39)}-`]);
    expect(primaryIdentifier(a!)).toBe(`${"X".repeat(28)}_1.;1`);
    expect(primaryIdentifier(b!)).toBe(`${"X".repeat(30)}.;1`);
  });
});

describe("directory order (9.3)", () => {
  test("primary: by name, then extension; the shorter prefix first", () => {
    const names = ["AB.C", "A.Z", "A0.B", "A.", "B.A"].map((s) => {
      const [name, extension] = s.split(".") as [string, string];
      return { name, extension };
    });
    expect(names.sort(comparePrimary).map((p) => `${p.name}.${p.extension}`)).toEqual(["A.", "A.Z", "A0.B", "AB.C", "B.A"]);
  });

  test("Joliet: by UCS-2 code unit, so upper case before lower case", () => {
    expect(["user-data", "meta-data", "a", "B", "a-b", "ab"].sort(compareJoliet)).toEqual(["B", "a", "a-b", "ab", "meta-data", "user-data"]);
  });
});

describe("name validation", () => {
  test("the NoCloud names and other ordinary names pass", () => {
    expect(() => checkFileNames(["user-data", "meta-data", "network-config", "vendor-data", "x.y", "é", "a b"])).not.toThrow();
    expect(() => checkFileNames(["n".repeat(64)])).not.toThrow();
    expect(() => checkFileNames([])).not.toThrow();
  });

  test.each([
    [[""], /file 0 has an empty name/],
    [["ok", "a/b"], /file 1 name "a\/b" contains '\/'/],
    [["n".repeat(65)], /is 65 characters long, at most 64 allowed/],
    [["."], /"\." is reserved/],
    [[".."], /"\.\." is reserved/],
    [["trailing."], /ends with '\.'/],
    [["a;1"], /one of \* : ; \? \\/],
    [["a\nb"], /control character/],
    [["a\\b"], /one of/],
    [["😀"], /outside the BMP/],
    [["user-data", "user-data"], /file 1 name "user-data" appears twice/],
  ])("%p is refused: %p", (names, message) => {
    const err = rejection(names);
    expect(err.kind).toBe("invalid_argument");
    expect(err.field).toBe("spec.cloudInit");
    expect(err.message).toMatch(/^cloud-init ISO: /);
    expect(err.message).toMatch(message);
  });

  test("more than 64 files is refused, 64 is fine", () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`);
    expect(() => checkFileNames(names(64))).not.toThrow();
    expect(rejection(names(65)).message).toMatch(/65 files, at most 64 allowed/);
  });
});
