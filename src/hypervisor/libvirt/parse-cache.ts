// The parse of every domain's persistent definition, one entry per domain. Status reads and
// listings fetch a domain's inactive XML each time (libvirt has no "changed since" call) and
// reuse the parse while the text is the same: a changed definition is parsed again, a domain
// that is undefined is forgotten (its event, or a listing without it). Sized by the host itself:
// one entry per defined domain, however many (a bounded LRU reparsed every domain of a host
// with more domains than it held, on every listing: bench/README.md, "ListVMs at scale").

import { parseDomainXmlFresh, type ParsedDomain } from "./domain-xml/index.ts";

export interface ParseCache {
  /** The domain's definition parsed; the caller's own copy. Throws what parseDomainXml throws. */
  parse(uuid: string, xml: string): ParsedDomain;
  /** The domain was undefined (or left the host). */
  forget(uuid: string): void;
  /** After a full listing: every domain not in it is gone. */
  retainOnly(uuids: ReadonlySet<string>): void;
  readonly size: number;
}

/** parse: the uncached parser (tests count its calls). */
export function createParseCache(parse: (xml: string) => ParsedDomain = parseDomainXmlFresh): ParseCache {
  const entries = new Map<string, { xml: string; parsed: ParsedDomain }>();
  return {
    parse(uuid, xml) {
      let entry = entries.get(uuid);
      if (entry === undefined || entry.xml !== xml) {
        entry = { xml, parsed: parse(xml) };
        entries.set(uuid, entry);
      }
      return structuredClone(entry.parsed);
    },
    forget: (uuid) => void entries.delete(uuid),
    retainOnly(uuids) {
      for (const uuid of entries.keys()) if (!uuids.has(uuid)) entries.delete(uuid);
    },
    get size() {
      return entries.size;
    },
  };
}
