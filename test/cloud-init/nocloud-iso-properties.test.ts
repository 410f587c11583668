// Properties over random file sets: the image's geometry and contents read back by the tests'
// own reader (many runs, pure), and a round trip through isoinfo (few runs: each spawns).

import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { buildNoCloudIso } from "../../src/cloud-init/nocloud-iso.ts";
import { readDescriptor, readDirectory, readJolietFiles } from "./iso-reader.ts";
import { run, tempDir, tool } from "./host-tools.ts";

const content = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ minLength: 2048, maxLength: 2048 }),
  fc.uint8Array({ maxLength: 3000 }),
  fc.uint8Array({ minLength: 2049, maxLength: 9000 }),
);

/** Names isoinfo can be handed as arguments: ASCII, no trailing '.'. */
const safeName = fc.stringMatching(/^[a-z0-9_-][a-z0-9._-]{0,29}[a-z0-9_-]$|^[a-z0-9_-]$/);
/** Any name the builder accepts, Unicode included, up to the 64-character limit. */
const anyName = fc
  .string({ unit: fc.constantFrom("a", "Z", "0", "-", "_", ".", " ", "é", "€", "ß", "+", "~"), minLength: 1, maxLength: 64 })
  .filter((n) => !n.endsWith("."));

const fileSets = (name: fc.Arbitrary<string>, maxLength: number) => fc.uniqueArray(fc.record({ name, content }), { maxLength, selector: (f) => f.name });

describe("pure properties", () => {
  test("length is whole sectors and matches both descriptors; every file reads back", () => {
    fc.assert(
      fc.property(fileSets(anyName, 12), (files) => {
        const image = buildNoCloudIso(files);
        expect(image.length % 2048).toBe(0);
        const pvd = readDescriptor(image, 16);
        const svd = readDescriptor(image, 17);
        expect(pvd.volumeSpaceSize * 2048).toBe(image.length);
        expect(svd.volumeSpaceSize).toBe(pvd.volumeSpaceSize);

        const read = readJolietFiles(image);
        expect(read.size).toBe(files.length);
        for (const f of files) expect(read.get(f.name)).toEqual(f.content);

        // Every extent lies inside the volume; non-empty files do not overlap each other.
        const records = readDirectory(image, svd.root.extent, svd.root.size, true).filter((r) => !r.directory);
        const spans = records.filter((r) => r.size > 0).map((r) => [r.extent, r.extent + Math.ceil(r.size / 2048)] as const);
        for (const r of records) expect(r.extent).toBeLessThan(pvd.volumeSpaceSize);
        spans.sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
        const primary = readDirectory(image, pvd.root.extent, pvd.root.size, false).filter((r) => !r.directory);
        expect(new Set(primary.map((r) => r.name)).size).toBe(files.length);
      }),
      { numRuns: 300 },
    );
  });

  test("same files in any order give the same bytes", () => {
    const withPermutation = fileSets(anyName, 6).chain((files) =>
      fc.tuple(fc.constant(files), fc.shuffledSubarray(files, { minLength: files.length, maxLength: files.length })),
    );
    fc.assert(
      fc.property(withPermutation, ([files, shuffled]) => {
        expect(buildNoCloudIso(shuffled)).toEqual(buildNoCloudIso(files));
      }),
      { numRuns: 100 },
    );
  });
});

describe("isoinfo round trip", () => {
  const isoinfo = tool("isoinfo");
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  test.skipIf(!isoinfo)("random file sets come back byte for byte through isoinfo -J -x (20 runs)", () => {
    let n = 0;
    fc.assert(
      fc.property(fileSets(safeName, 5), (files) => {
        const img = join(tmp.dir, `run-${n++}.iso`);
        writeFileSync(img, buildNoCloudIso(files));
        for (const f of files) {
          const got = run([isoinfo as string, "-J", "-x", `/${f.name}`, "-i", img]).stdout;
          expect(Buffer.compare(got, Buffer.from(f.content))).toBe(0);
        }
      }),
      { numRuns: 20 },
    );
  });
});
