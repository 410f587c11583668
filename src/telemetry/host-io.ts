// The only place that touches the file system. Parsers never read; readers go through HostIo,
// so tests can count reads or serve a fixture tree, and containers can point at /host/proc.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
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
  statfs(path: string): Promise<StatFsResult>;
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
 * metrics tick). statfs stays async: a storage mount that hangs (NFS) must not stall the daemon.
 */
export const nodeHostIo: HostIo = {
  readText: async (path) => readFileSync(path, "utf8"),
  readDir: async (path) => readdirSync(path),
  readLink: async (path) => readlinkSync(path),
  async statfs(path) {
    const s = await statfs(path);
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
