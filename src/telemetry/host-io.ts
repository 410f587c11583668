// The only place that touches the file system. Parsers never read; readers go through HostIo,
// so tests can count reads or serve a fixture tree, and containers can point at /host/proc.

import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statfsSync } from "node:fs";
import { statfs } from "node:fs/promises";
import { join } from "node:path";

export interface StatFsResult {
  /** Fragment size (what df multiplies block counts by). */
  blockSize: number;
  blocks: number;
  blocksFree: number;
  blocksAvailable: number;
  files: number;
  filesFree: number;
}

export interface HostIo {
  readText(path: string): Promise<string>;
  readDir(path: string): Promise<string[]>;
  readLink(path: string): Promise<string>;
  /** local: the path is on a local filesystem, whose statfs the kernel answers from memory. */
  statfs(path: string, how?: { local: boolean }): Promise<StatFsResult>;
}

export interface HostRoots {
  proc: string;
  sys: string;
  etc: string;
}

/**
 * Files under /proc, /sys and /etc are read synchronously: the kernel makes /proc and /sys text on
 * the spot and /etc sits on the root disk, so a read never waits, while an async read costs a
 * thread-pool hop and a wake of the API thread each (a host sample reads about twenty, every
 * metrics tick). So is statfs of a local filesystem (3 us here, 16 us of CPU through the pool);
 * any other goes through the thread pool: a network mount whose server hangs (NFS) must not stall
 * the daemon.
 */
export const nodeHostIo: HostIo = {
  readText: async (path) => readFileSync(path, "utf8"),
  readDir: async (path) => readdirSync(path),
  readLink: async (path) => readlinkSync(path),
  async statfs(path, how) {
    const s = how?.local ? statfsSync(path) : await statfs(path);
    // Bun's StatFs carries frsize (Linux f_frsize, what df uses); Node's type does not declare it.
    const frsize = (s as { frsize?: number }).frsize;
    return {
      blockSize: frsize !== undefined && frsize > 0 ? frsize : s.bsize,
      blocks: s.blocks,
      blocksFree: s.bfree,
      blocksAvailable: s.bavail,
      files: s.files,
      filesFree: s.ffree,
    };
  },
};

/** Files kept open at most; past it, files are opened and closed on each read. */
const MAX_KEPT_OPEN = 64;

/** A HostIo that closes what it keeps open. */
export interface KeptOpenHostIo extends HostIo {
  close(): void;
}

/**
 * nodeHostIo, but files under the given roots (/proc and /sys: pseudo-files the kernel writes
 * afresh on every read at offset 0, and never replaces) stay open and are re-read from offset 0:
 * the open() of a /proc path costs two to ten times the read, and a sampler reads the same files
 * every second. A read that fails (a device's sysfs node gone) closes the file and opens the path
 * again, so the error is the one a fresh open gives.
 */
export function keptOpenHostIo(roots: readonly string[]): KeptOpenHostIo {
  const prefixes = roots.map((r) => (r.endsWith("/") ? r : `${r}/`));
  const open = new Map<string, number>();
  let chunk = Buffer.allocUnsafe(16 * 1024);

  function readFrom(fd: number): string {
    const parts: Buffer[] = [];
    for (let at = 0; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      if (n === 0) break;
      parts.push(Buffer.from(chunk.subarray(0, n)));
      at += n;
      // A big file (a mount table with hundreds of entries): fewer, larger reads next time.
      if (n === chunk.length && chunk.length < 1024 * 1024) chunk = Buffer.allocUnsafe(chunk.length * 2);
    }
    return parts.length === 1 ? (parts[0] as Buffer).toString("utf8") : Buffer.concat(parts).toString("utf8");
  }

  function forget(path: string, fd: number) {
    open.delete(path);
    try {
      closeSync(fd);
    } catch {}
  }

  function readText(path: string): string {
    const kept = open.get(path);
    if (kept !== undefined) {
      try {
        return readFrom(kept);
      } catch {
        forget(path, kept);
      }
    }
    if (open.size >= MAX_KEPT_OPEN || !prefixes.some((p) => path.startsWith(p))) return readFileSync(path, "utf8");
    const fd = openSync(path, "r");
    try {
      const text = readFrom(fd);
      open.set(path, fd);
      return text;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  return {
    ...nodeHostIo,
    readText: async (path) => readText(path),
    close() {
      for (const [path, fd] of open) forget(path, fd);
    },
  };
}

/** True for errors meaning "this file does not exist here" (an absent figure, not a failure). */
export function isAbsent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EINVAL";
}

/** Reads a file that some kernels or machines do not have; undefined when it is absent. */
export async function readOptional(io: HostIo, path: string): Promise<string | undefined> {
  try {
    return await io.readText(path);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

export async function readDirOptional(io: HostIo, path: string): Promise<string[] | undefined> {
  try {
    return await io.readDir(path);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

export async function readLinkOptional(io: HostIo, path: string): Promise<string | undefined> {
  try {
    return await io.readLink(path);
  } catch (err) {
    if (isAbsent(err)) return undefined;
    throw err;
  }
}

export const procPath = (roots: HostRoots, ...parts: string[]) => join(roots.proc, ...parts);
export const sysPath = (roots: HostRoots, ...parts: string[]) => join(roots.sys, ...parts);
