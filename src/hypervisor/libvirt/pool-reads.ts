// What the call Worker reads about a pool besides libvirt's answers: its definition parsed (once
// per definition text), its folder's mtime and its filesystem's figures (pool-rescan.ts says
// when these stand in for a rescan).

import { statfsSync, statSync } from "node:fs";
import { parsePoolXml, type ParsedPool } from "./domain-xml/pool-xml.ts";
import { dirPoolFigures } from "./pool-rescan.ts";

/**
 * Pool definitions parsed, by their XML text (which names the pool and its uuid): the listing of
 * every heartbeat parsed every pool's XML twice (here and on the API thread), ~15 % of the API
 * thread's samples in a profile of a daemon beating every second. A changed definition is another
 * text, parsed again; the map is emptied when it outgrows any real host.
 */
const parsedPools = new Map<string, ParsedPool>();
const PARSED_POOLS_MAX = 256;

export function parsedPool(xml: string): ParsedPool {
  let parsed = parsedPools.get(xml);
  if (parsed === undefined) {
    parsed = parsePoolXml(xml);
    if (parsedPools.size >= PARSED_POOLS_MAX) parsedPools.clear();
    parsedPools.set(xml, parsed);
  }
  return parsed;
}

/** The target folder's mtime; undefined when it cannot be read (gone: a rescan then reports why). */
export function folderMtimeMs(path: string | undefined): number | undefined {
  if (path === undefined) return undefined;
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

export function currentDirFigures(path: string): ReturnType<typeof dirPoolFigures> | undefined {
  try {
    return dirPoolFigures(statfsSync(path));
  } catch {
    return undefined;
  }
}
