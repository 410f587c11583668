// parseDomainXml: libvirt's XML (ours or `virsh dumpxml`, live or inactive) -> spec and console.

import type { VmSpec } from "../../types.ts";
import { readDomain } from "./domain-reader.ts";
import type { DomainDef } from "./model.ts";
import { consoleOf, domainToSpec, type ConsoleDetails } from "./domain-to-spec.ts";
import { parseXml } from "./xml-tree.ts";

export interface ParsedDomain {
  id: string;
  name: string;
  spec: VmSpec;
  createdAt?: Date;
  domainType: string;
  console?: ConsoleDetails;
}

/** The whole typed model, for details the spec does not carry (NVRAM path, tap devices, ...). */
export function parseDomainDefXml(xml: string): DomainDef {
  return readDomain(parseXml(xml, "domain XML"));
}

// Status calls read the same XML again and again; parsing a 7 KB live document costs 0.5-1 ms,
// a lookup and a copy a few microseconds. Keyed by the whole text, so a changed domain misses.
// Bounded in entries and in characters: cloud-init data in the metadata can make a document
// half a megabyte (256 KiB of data, escaped), which takes some 35 ms to parse.
const CACHE_ENTRIES = 128;
const CACHE_CHARS = 16 * 1024 * 1024;
const cache = new Map<string, ParsedDomain>();
let cachedChars = 0;

/** Parse (or reuse the parse of identical text); the result is the caller's own copy. */
export function parseDomainXml(xml: string): ParsedDomain {
  let parsed = cache.get(xml);
  if (parsed) {
    cache.delete(xml); // re-insert: Map order is the LRU order
  } else {
    parsed = parseDomainXmlFresh(xml);
    cachedChars += xml.length;
    while (cache.size >= CACHE_ENTRIES || (cache.size > 0 && cachedChars > CACHE_CHARS)) {
      const oldest = cache.keys().next().value as string;
      cache.delete(oldest);
      cachedChars -= oldest.length;
    }
  }
  cache.set(xml, parsed);
  return structuredClone(parsed);
}

/** Parse with no cache at all (the backend keeps its own, one entry per domain: parse-cache.ts). */
export function parseDomainXmlFresh(xml: string): ParsedDomain {
  const def = parseDomainDefXml(xml);
  const out: ParsedDomain = { id: def.uuid, name: def.name, spec: domainToSpec(def), domainType: def.type };
  const created = def.metadata?.createdAt === undefined ? undefined : new Date(def.metadata.createdAt);
  if (created && !Number.isNaN(created.getTime())) out.createdAt = created;
  const console = consoleOf(def);
  if (console) out.console = console;
  return out;
}
