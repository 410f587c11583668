// The binary encoders, byte by byte against values worked out by hand from ECMA-119.

import { describe, expect, test } from "bun:test";
import {
  bothEndian16,
  bothEndian32,
  directoryDate,
  directoryRecord,
  directoryRecordLength,
  paddedAscii,
  paddedUcs2,
  rootPathTableRecord,
  ucs2,
  volumeDate,
} from "../../src/cloud-init/iso9660-records.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe("both-endian integers (7.2.3, 7.3.3)", () => {
  test.each([
    [0, "00000000"],
    [1, "01000001"],
    [0x0800, "00080800"],
    [0xffff, "ffffffff"],
  ])("16-bit %d", (n, bytes) => expect(hex(bothEndian16(n))).toBe(bytes));

  test.each([
    [0, "0000000000000000"],
    [23, "1700000000000017"],
    [0x12345678, "7856341212345678"],
    [0xffffffff, "ffffffffffffffff"],
  ])("32-bit %d", (n, bytes) => expect(hex(bothEndian32(n))).toBe(bytes));

  test.each([-1, 1.5, 0x100000000, Number.NaN])("32-bit refuses %p instead of wrapping", (n) => {
    expect(() => bothEndian32(n)).toThrow(RangeError);
  });

  test("16-bit refuses 65536", () => expect(() => bothEndian16(0x10000)).toThrow(/0\.\.65535/));
});

describe("dates", () => {
  const d = new Date("2024-05-06T07:08:09.126Z");

  test("directory record date (9.1.5): years since 1900, UTC offset 0", () => {
    expect([...directoryDate(d)]).toEqual([124, 5, 6, 7, 8, 9, 0]);
    expect([...directoryDate(new Date(0))]).toEqual([70, 1, 1, 0, 0, 0, 0]);
  });

  test("volume descriptor date (8.4.26.1): 16 digits with hundredths, then offset 0", () => {
    expect([...volumeDate(d)]).toEqual([...ascii("2024050607080912"), 0]);
    expect([...volumeDate(new Date("1900-01-01T00:00:00Z"))]).toEqual([...ascii("1900010100000000"), 0]);
  });

  test("unspecified volume date is sixteen '0' digits and offset 0", () => {
    expect([...volumeDate(undefined)]).toEqual([...ascii("0".repeat(16)), 0]);
  });

  test("years a directory record cannot hold, and invalid dates, are refused", () => {
    expect(() => directoryDate(new Date("1899-12-31T23:59:59Z"))).toThrow(/1899 is outside 1900\.\.2155/);
    expect(() => directoryDate(new Date("2156-01-01T00:00:00Z"))).toThrow(/2156/);
    expect(() => volumeDate(new Date(Number.NaN))).toThrow(/invalid Date/);
    expect([...directoryDate(new Date("2155-12-31T23:59:59Z"))]).toEqual([255, 12, 31, 23, 59, 59, 0]);
  });
});

describe("directory records (9.1)", () => {
  const date = new Date("2024-05-06T07:08:09Z");

  test("a file record, even identifier length: one padding byte", () => {
    const r = directoryRecord({ extent: 26, size: 15, date, directory: false, identifier: Uint8Array.from(ascii("A.;1")) });
    expect(hex(r)).toBe(
      "26" +
        "00" +
        "1a0000000000001a" +
        "0f0000000000000f" +
        "7c0506070809" +
        "00" +
        "00" +
        "00" +
        "00" +
        "0100" +
        "0001" +
        "04" +
        Buffer.from("A.;1").toString("hex") +
        "00",
    );
    // 33 + 4 = 37 is odd, so a padding byte makes it even: 38.
    expect(r.length).toBe(38);
    expect(r[0]).toBe(38);
  });

  test("the root's '.' record is 34 bytes with the directory flag", () => {
    const r = directoryRecord({ extent: 23, size: 2048, date, directory: true, identifier: Uint8Array.of(0) });
    expect(r.length).toBe(34);
    expect(r[25]).toBe(0x02);
    expect(r[32]).toBe(1);
    expect(r[33]).toBe(0);
  });

  test("record length: 33 + identifier, padded to even", () => {
    expect([1, 2, 9, 18, 128].map(directoryRecordLength)).toEqual([34, 36, 42, 52, 162]);
  });

  test("an empty identifier, or one that makes the record exceed 255 bytes, is refused", () => {
    const base = { extent: 0, size: 0, date, directory: false };
    expect(() => directoryRecord({ ...base, identifier: new Uint8Array(0) })).toThrow(RangeError);
    // 33 + 222 + 1 padding byte = 256.
    expect(() => directoryRecord({ ...base, identifier: new Uint8Array(222) })).toThrow(RangeError);
    expect(directoryRecord({ ...base, identifier: new Uint8Array(221) }).length).toBe(254);
  });
});

describe("path table record of the root (9.4)", () => {
  test("little-endian (L) and big-endian (M)", () => {
    expect(hex(rootPathTableRecord(23, true))).toBe("0100" + "17000000" + "0100" + "0000");
    expect(hex(rootPathTableRecord(23, false))).toBe("0100" + "00000017" + "0001" + "0000");
  });
});

describe("text fields", () => {
  test("a-/d-character fields are space padded", () => {
    expect(hex(paddedAscii("CIDATA", 8))).toBe(Buffer.from("CIDATA  ").toString("hex"));
    expect(() => paddedAscii("TOO LONG", 4)).toThrow(/longer than its 4-byte field/);
    expect(() => paddedAscii("é", 4)).toThrow(/not ASCII/);
  });

  test("Joliet: UCS-2 big-endian, padded with 00 20; odd widths end in one 00", () => {
    expect(hex(ucs2("user-data"))).toBe("0075007300650072002d0064006100740061");
    expect(hex(ucs2("é€"))).toBe("00e920ac");
    expect(hex(paddedUcs2("ci", 8))).toBe("0063006900200020");
    expect(hex(paddedUcs2("", 5))).toBe("0020002000");
  });
});
