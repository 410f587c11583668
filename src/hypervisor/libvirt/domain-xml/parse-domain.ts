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

export function parseDomainXml(xml: string): ParsedDomain {
  const def = parseDomainDefXml(xml);
  const out: ParsedDomain = { id: def.uuid, name: def.name, spec: domainToSpec(def), domainType: def.type };
  const created = def.metadata?.createdAt === undefined ? undefined : new Date(def.metadata.createdAt);
  if (created && !Number.isNaN(created.getTime())) out.createdAt = created;
  const console = consoleOf(def);
  if (console) out.console = console;
  return out;
}
