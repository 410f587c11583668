// An in-memory HostIo for tests: files, symlinks and statfs results from plain objects,
// with a count of every read so tests can prove how often the host was read.

import type { HostIo, StatFsResult } from "../../src/telemetry/host-io.ts";

export interface MemoryIo extends HostIo {
  files: Map<string, string>;
  reads: Map<string, number>;
  readsOf(path: string): number;
}

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
}

export function createMemoryIo(files: Record<string, string>, opts: { links?: Record<string, string>; statfs?: Record<string, StatFsResult> } = {}): MemoryIo {
  const map = new Map(Object.entries(files));
  const links = new Map(Object.entries(opts.links ?? {}));
  const reads = new Map<string, number>();
  const count = (p: string) => reads.set(p, (reads.get(p) ?? 0) + 1);
  return {
    files: map,
    reads,
    readsOf: (p) => reads.get(p) ?? 0,
    async readText(path) {
      count(path);
      const text = map.get(path);
      if (text === undefined) throw enoent(path);
      return text;
    },
    async readDir(path) {
      count(path);
      const prefix = path.endsWith("/") ? path : `${path}/`;
      const names = new Set<string>();
      for (const key of [...map.keys(), ...links.keys()]) {
        if (key.startsWith(prefix)) names.add(key.slice(prefix.length).split("/")[0] as string);
      }
      if (names.size === 0) throw enoent(path);
      return [...names].sort();
    },
    async readLink(path) {
      count(path);
      const target = links.get(path);
      if (target === undefined) throw enoent(path);
      return target;
    },
    async statfs(path) {
      count(path);
      const s = opts.statfs?.[path];
      if (s === undefined) throw enoent(path);
      return s;
    },
  };
}
