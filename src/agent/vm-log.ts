// The tail of a VM's QEMU log (/var/log/libvirt/qemu/<name>.log), bounded: at most `lines`
// lines from at most the last `maxBytes` bytes of the file, read without loading the rest.

import { open, stat } from "node:fs/promises";
import { posix } from "node:path";

export const DEFAULT_QEMU_LOG_DIR = "/var/log/libvirt/qemu";
export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 1000;
/** The most read from the end of the file: 1000 lines of 1 KiB. */
export const MAX_TAIL_BYTES = 1024 * 1024;

export interface LogTail {
  path: string;
  /** Size of the whole file; 0 when it does not exist. */
  sizeBytes: number;
  lines: string[];
  /** The file holds more than the lines returned. */
  truncated: boolean;
  lastModified?: Date;
}

/** 0 -> 100, capped at 1000. */
export function clampLines(lines: number | undefined): number {
  if (!lines || lines <= 0) return DEFAULT_LOG_LINES;
  return Math.min(MAX_LOG_LINES, Math.floor(lines));
}

/** The last `count` lines of `text` (a trailing newline ends the last line, it does not start one). */
export function lastLines(text: string, count: number): { lines: string[]; more: boolean } {
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  if (body === "") return { lines: [], more: false };
  const all = body.split("\n");
  return { lines: all.slice(-count), more: all.length > count };
}

export function qemuLogPath(dir: string, vmName: string): string {
  return posix.join(dir, `${posix.basename(vmName)}.log`);
}

export async function tailLog(path: string, count: number, maxBytes = MAX_TAIL_BYTES): Promise<LogTail> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return { path, sizeBytes: 0, lines: [], truncated: false };
  }
  const size = info.size;
  const from = Math.max(0, size - maxBytes);
  const file = await open(path, "r");
  try {
    const buf = Buffer.alloc(size - from);
    const { bytesRead } = await file.read(buf, 0, buf.length, from);
    let text = buf.subarray(0, bytesRead).toString("utf8");
    // A tail that starts mid-line drops the partial first line.
    if (from > 0) text = text.slice(text.indexOf("\n") + 1);
    const { lines, more } = lastLines(text, count);
    return { path, sizeBytes: size, lines, truncated: more || from > 0, lastModified: info.mtime };
  } finally {
    await file.close();
  }
}
