// growOnly, the qcow2 header parser and the image reader.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatOf, growOnly, MAX_VOLUME_BYTES, overlaySize, qcow2VirtualSize, readImageInfo } from "../../../src/hypervisor/storage/index.ts";

const GiB = 1024 ** 3;

function qcow2Header(size: bigint, version = 3, length = 32): Uint8Array {
  const buf = new Uint8Array(length);
  const view = new DataView(buf.buffer);
  buf.set([0x51, 0x46, 0x49, 0xfb]);
  if (length >= 8) view.setUint32(4, version, false);
  if (length >= 32) view.setBigUint64(24, size, false);
  return buf;
}

describe("growOnly", () => {
  test.each([
    [10 * GiB, 20 * GiB, "grow"],
    [10 * GiB, 10 * GiB, "unchanged"],
    [0, 512, "grow"],
  ] as const)("%d -> %d is %s", (from, to, want) => {
    expect(growOnly("v", from, to)).toBe(want);
  });

  test("shrinking is invalid_argument saying what would be lost", () => {
    expect(() => growOnly("root", 20 * GiB, 10 * GiB)).toThrow(
      `new_size_bytes: volume root is ${20 * GiB} bytes; shrinking to ${10 * GiB} would lose data (volumes only grow)`,
    );
  });

  test.each([
    ["zero", 0],
    ["negative", -512],
    ["fractional", 1.5],
    ["not whole sectors", GiB + 1],
    ["beyond 64 TiB", MAX_VOLUME_BYTES + 512],
    ["unsafe integer", 2 ** 60],
  ])("%s is invalid_argument", (_n, to) => {
    expect(() => growOnly("v", 0, to)).toThrow(expect.objectContaining({ kind: "invalid_argument", field: "new_size_bytes" }));
  });
  test("the cap is 64 TiB", () => expect(MAX_VOLUME_BYTES).toBe(64 * 1024 ** 4));
});

describe("qcow2 header", () => {
  test.each([
    ["version 3", qcow2Header(10n * BigInt(GiB)), 10 * GiB],
    ["version 2", qcow2Header(1048576n, 2), 1048576],
    ["unknown version", qcow2Header(1048576n, 4), undefined],
    ["cut short", qcow2Header(1048576n, 3, 24), undefined],
    ["beyond 2^53", qcow2Header(1n << 60n), undefined],
    ["not qcow2", new Uint8Array(32), undefined],
    ["empty", new Uint8Array(0), undefined],
  ] as const)("%s", (_n, header, want) => {
    expect(qcow2VirtualSize(header)).toBe(want);
  });

  test("formatOf: the magic decides; unreadable files are guessed from the name", () => {
    expect(formatOf("/x.raw", qcow2Header(1n))).toBe("qcow2");
    expect(formatOf("/x.qcow2", new Uint8Array(4))).toBe("raw");
    expect(formatOf("/x.qcow2", undefined)).toBe("qcow2");
    expect(formatOf("/x.img", new Uint8Array(2))).toBe("raw");
  });

  test("an overlay is at least its backing image's size", () => {
    expect(overlaySize(GiB, 10 * GiB)).toBe(10 * GiB);
    expect(overlaySize(20 * GiB, 10 * GiB)).toBe(20 * GiB);
    expect(overlaySize(GiB, undefined)).toBe(GiB);
  });
});

describe("readImageInfo", () => {
  const dir = mkdtempSync(join(tmpdir(), "lq-image-info-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a real qcow2 image made by qemu-img, a raw file, a missing file", async () => {
    const q = join(dir, "a.qcow2");
    const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", q, "3G"]);
    if (made.exitCode === 0) expect(await readImageInfo(q)).toEqual({ format: "qcow2", virtualSize: 3 * GiB });
    else console.warn("qemu-img not installed: real qcow2 header not checked");
    const r = join(dir, "b.raw");
    writeFileSync(r, new Uint8Array(4096));
    expect(await readImageInfo(r)).toEqual({ format: "raw", virtualSize: 4096 });
    expect(await readImageInfo(join(dir, "none"))).toBeUndefined();
  });
});
