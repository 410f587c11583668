// keptOpenHostIo: files under the given roots stay open and are re-read from offset 0; others
// are opened and closed on each read; what it keeps is bounded and closed by close().

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keptOpenHostIo } from "../../src/telemetry/host-io.ts";

const dir = mkdtempSync(join(tmpdir(), "lq-kept-open-"));
const root = join(dir, "proc");
const other = join(dir, "etc");
mkdirSync(root);
mkdirSync(other);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** How many of this process's descriptors are open on path. */
function openOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {}
  }
  return n;
}

test("a file under a root is opened once and read afresh from offset 0 every time", async () => {
  const io = keptOpenHostIo([root]);
  const file = join(root, "stat");
  writeFileSync(file, "cpu 1 2 3\n");
  try {
    expect(await io.readText(file)).toBe("cpu 1 2 3\n");
    // Rewritten in place (same inode), as the kernel regenerates a /proc file.
    writeFileSync(file, "cpu 4 5 6 7 8\n");
    expect(await io.readText(file)).toBe("cpu 4 5 6 7 8\n");
    writeFileSync(file, "cpu 9\n");
    expect(await io.readText(file)).toBe("cpu 9\n");
    expect(openOn(file)).toBe(1);
  } finally {
    io.close();
  }
  expect(openOn(file)).toBe(0);
});

test("files outside the roots are not kept open; a missing file is the usual ENOENT", async () => {
  const io = keptOpenHostIo([root]);
  const file = join(other, "os-release");
  writeFileSync(file, "ID=debian\n");
  try {
    expect(await io.readText(file)).toBe("ID=debian\n");
    expect(openOn(file)).toBe(0);
    await expect(io.readText(join(root, "absent"))).rejects.toMatchObject({ code: "ENOENT" });
  } finally {
    io.close();
  }
});

test("a file larger than one read comes whole; the real /proc reads the same as readFileSync", async () => {
  const io = keptOpenHostIo([root, "/proc"]);
  const big = join(root, "mounts");
  const text = Array.from({ length: 3000 }, (_, i) => `/dev/vd${i} /mnt/m${i} ext4 rw,relatime 0 0`).join("\n");
  writeFileSync(big, text);
  try {
    expect(await io.readText(big)).toBe(text);
    expect(await io.readText(big)).toBe(text);
    expect(await io.readText("/proc/self/mounts")).toBe(readFileSync("/proc/self/mounts", "utf8"));
    expect(await io.readText("/proc/self/mounts")).toBe(readFileSync("/proc/self/mounts", "utf8"));
  } finally {
    io.close();
  }
});

test("at most 64 files are kept open; the rest are read all the same", async () => {
  const io = keptOpenHostIo([root]);
  const many = join(root, "many");
  mkdirSync(many);
  try {
    for (let i = 0; i < 80; i++) {
      writeFileSync(join(many, `f${i}`), `${i}\n`);
      expect(await io.readText(join(many, `f${i}`))).toBe(`${i}\n`);
    }
    const kept = Array.from({ length: 80 }, (_, i) => openOn(join(many, `f${i}`))).reduce((a, b) => a + b, 0);
    // The first test's file was closed with its own io; this io holds at most 64.
    expect(kept).toBe(64);
  } finally {
    io.close();
  }
  expect(Array.from({ length: 80 }, (_, i) => openOn(join(many, `f${i}`))).reduce((a, b) => a + b, 0)).toBe(0);
});
