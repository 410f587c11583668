// The whole image: a golden hash (regenerate with UPDATE_GOLDEN=1 bun test test/cloud-init, then
// check the tool cross-checks still pass), determinism, and its structure read back by the
// tests' own reader (iso-reader.ts, which shares no code with the writer).

import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildNoCloudIso } from "../../src/cloud-init/nocloud-iso.ts";
import { HypervisorError } from "../../src/hypervisor/errors.ts";
import { BASIC_DATE, BASIC_FILES } from "./fixtures.ts";
import { readDescriptor, readDirectory, readJolietFiles } from "./iso-reader.ts";

const GOLDEN = join(import.meta.dir, "golden", "basic.iso.sha256");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe("golden image", () => {
  test("basic: sha256 matches golden/basic.iso.sha256", () => {
    const digest = sha256(buildNoCloudIso(BASIC_FILES, { date: BASIC_DATE }));
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, `${digest}\n`);
    expect(digest).toBe(readFileSync(GOLDEN, "utf8").trim());
  });

  test("deterministic, independent of file order, input untouched", () => {
    const before = structuredClone(BASIC_FILES);
    const a = buildNoCloudIso(BASIC_FILES, { date: BASIC_DATE });
    expect(buildNoCloudIso(BASIC_FILES, { date: BASIC_DATE })).toEqual(a);
    expect(buildNoCloudIso([...BASIC_FILES].reverse(), { date: BASIC_DATE })).toEqual(a);
    expect(BASIC_FILES).toEqual(before);
  });
});

describe("structure", () => {
  const image = buildNoCloudIso(BASIC_FILES, { date: BASIC_DATE });

  test("system area is 16 zero sectors; descriptors in 16, 17, 18", () => {
    expect(image.subarray(0, 16 * 2048).every((b) => b === 0)).toBe(true);
    expect([16, 17, 18].map((s) => image[s * 2048])).toEqual([1, 2, 255]);
    for (const s of [16, 17, 18]) expect(text(image.subarray(s * 2048 + 1, s * 2048 + 6))).toBe("CD001");
  });

  test("primary descriptor: CIDATA, sizes consistent with the image", () => {
    const pvd = readDescriptor(image, 16);
    expect(pvd.volumeId).toBe("CIDATA");
    expect(pvd.volumeSpaceSize * 2048).toBe(image.length);
    expect(pvd.pathTableSize).toBe(10);
    expect(pvd.root.size % 2048).toBe(0);
  });

  test("Joliet descriptor: %/E, cidata in UCS-2, its own root and path tables", () => {
    const pvd = readDescriptor(image, 16);
    const svd = readDescriptor(image, 17);
    expect(svd.escape).toBe("%/E");
    expect(svd.volumeId).toBe("cidata");
    expect(svd.volumeSpaceSize).toBe(pvd.volumeSpaceSize);
    expect(svd.root.extent).not.toBe(pvd.root.extent);
    expect(svd.lPathTable).not.toBe(pvd.lPathTable);
    // The path tables name each tree's root.
    const view = new DataView(image.buffer);
    for (const d of [pvd, svd]) {
      expect(view.getUint32(d.lPathTable * 2048 + 2, true)).toBe(d.root.extent);
      expect(view.getUint32(d.mPathTable * 2048 + 2, false)).toBe(d.root.extent);
    }
  });

  test("both roots: '.' and '..' name the root itself; files in the standard's order", () => {
    const pvd = readDescriptor(image, 16);
    const svd = readDescriptor(image, 17);
    const primary = readDirectory(image, pvd.root.extent, pvd.root.size, false);
    const joliet = readDirectory(image, svd.root.extent, svd.root.size, true);
    for (const [tree, d] of [
      [primary, pvd],
      [joliet, svd],
    ] as const) {
      expect(tree.slice(0, 2).map((r) => [r.name, r.extent, r.size, r.directory])).toEqual([
        [".", d.root.extent, d.root.size, true],
        ["..", d.root.extent, d.root.size, true],
      ]);
    }
    expect(primary.slice(2).map((r) => r.name)).toEqual(["META_DATA.;1", "NETWORK_CONFIG.;1", "USER_DATA.;1", "VENDOR_DATA.;1"]);
    expect(joliet.slice(2).map((r) => r.name)).toEqual(["meta-data", "network-config", "user-data", "vendor-data"]);
    // The two trees share the file data.
    expect(primary.slice(2).map((r) => [r.extent, r.size])).toEqual(joliet.slice(2).map((r) => [r.extent, r.size]));
  });

  test("file contents read back through Joliet, strings as UTF-8", () => {
    const files = readJolietFiles(image);
    for (const f of BASIC_FILES) expect(text(files.get(f.name))).toBe(f.content);
    const utf8 = readJolietFiles(buildNoCloudIso([{ name: "x", content: "é\n" }]));
    expect([...(utf8.get("x") as Uint8Array)]).toEqual([0xc3, 0xa9, 0x0a]);
  });

  test("64 files with 64-character names: the root directory spans sectors, all readable", () => {
    const files = Array.from({ length: 64 }, (_, i) => ({ name: `${String(i).padStart(2, "0")}-${"n".repeat(61)}`, content: `file ${i}\n` }));
    const big = buildNoCloudIso(files);
    const svd = readDescriptor(big, 17);
    // "." and ".." (34 bytes each), then 64 records of 162 bytes: 12 to a sector, none across one.
    expect(svd.root.size).toBe(6 * 2048);
    const read = readJolietFiles(big);
    expect(read.size).toBe(64);
    for (const f of files) expect(text(read.get(f.name))).toBe(f.content);
  });

  test("timestamps: default is the Unix epoch, opts.date otherwise", () => {
    const pvdDate = (img: Uint8Array) => text(img.subarray(16 * 2048 + 813, 16 * 2048 + 829));
    expect(pvdDate(buildNoCloudIso([]))).toBe("1970010100000000");
    expect(pvdDate(image)).toBe("2024050607080912");
  });

  test("volume id: upper-cased d-characters in the primary, as given in Joliet", () => {
    const img = buildNoCloudIso([], { volumeId: "Seed-1" });
    expect(readDescriptor(img, 16).volumeId).toBe("SEED_1");
    expect(readDescriptor(img, 17).volumeId).toBe("Seed-1");
  });
});

describe("bad options", () => {
  const kind = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err instanceof HypervisorError ? `${err.kind}: ${err.message}` : String(err);
    }
    return "accepted";
  };

  test.each(["", "x".repeat(17), "ci data", "cïdata"])("volume id %p is refused", (volumeId) => {
    expect(kind(() => buildNoCloudIso([], { volumeId }))).toMatch(/^invalid_argument: cloud-init ISO: volume id/);
  });

  test.each(["1899-12-31T00:00:00Z", "2156-01-01T00:00:00Z", "garbage"])("date %p is refused", (d) => {
    expect(kind(() => buildNoCloudIso([], { date: new Date(d) }))).toMatch(/^invalid_argument: cloud-init ISO: date must be/);
  });

  test("bad file names are refused before anything is built", () => {
    expect(kind(() => buildNoCloudIso([{ name: "a/b", content: "" }]))).toMatch(/^invalid_argument: .*contains '\/'/);
  });
});
