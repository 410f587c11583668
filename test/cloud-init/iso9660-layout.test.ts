// Directory packing (records never cross a sector) and the sector plan of the image.

import { describe, expect, test } from "bun:test";
import { packDirectory, packRecords, planLayout } from "../../src/cloud-init/iso9660-layout.ts";

describe("packRecords (6.8.1.1)", () => {
  test("no records still takes one sector", () => {
    expect(packRecords([])).toEqual({ offsets: [], size: 2048 });
  });

  test("records run on while they fit", () => {
    expect(packRecords([34, 34, 52])).toEqual({ offsets: [0, 34, 68], size: 2048 });
  });

  test("a record that would cross the boundary starts the next sector", () => {
    // 12 records of 162 bytes fill 1944; a 13th would end at 2106.
    const r = packRecords(Array(13).fill(162));
    expect(r.offsets.at(-2)).toBe(11 * 162);
    expect(r.offsets.at(-1)).toBe(2048);
    expect(r.size).toBe(4096);
  });

  test("a record ending exactly on the boundary leaves the next one at its start", () => {
    const r = packRecords([2000, 48, 34]);
    expect(r.offsets).toEqual([0, 2000, 2048]);
    expect(r.size).toBe(4096);
  });

  test("packDirectory puts the bytes where packRecords said, zeros elsewhere", () => {
    const records = [Uint8Array.of(4, 1, 2, 3), new Uint8Array(2046).fill(9)];
    const out = packDirectory(records);
    expect(out.length).toBe(4096);
    expect([...out.subarray(0, 4)]).toEqual([4, 1, 2, 3]);
    expect(out.subarray(4, 2048).every((b) => b === 0)).toBe(true);
    expect(out.subarray(2048, 4094).every((b) => b === 9)).toBe(true);
  });
});

describe("planLayout", () => {
  test("root directories after the path tables, then each file on its own sectors", () => {
    expect(planLayout(2048, 2048, [15, 5000, 2048, 26])).toEqual({
      primaryRoot: 23,
      jolietRoot: 24,
      fileExtents: [25, 26, 29, 30],
      totalSectors: 31,
    });
  });

  test("empty files share one zero sector inside the volume", () => {
    expect(planLayout(4096, 2048, [0, 10, 0])).toEqual({
      primaryRoot: 23,
      jolietRoot: 25,
      fileExtents: [26, 27, 26],
      totalSectors: 28,
    });
  });

  test("no files: only the fixed part and the two roots", () => {
    expect(planLayout(2048, 2048, [])).toEqual({ primaryRoot: 23, jolietRoot: 24, fileExtents: [], totalSectors: 25 });
  });
});
