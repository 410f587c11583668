// Volume XML: what virStorageVolCreateXML(From) is given, and what virStorageVolGetXMLDesc
// answers read back. Pool XML lives in pool-xml.ts.

import { HypervisorError } from "../../errors.ts";
import type { DiskFormat } from "../../types.ts";
import { attr, child, el, intOf, parseXml, serializeXml, textOf } from "./xml-tree.ts";

export interface VolumeXmlOptions {
  name: string;
  sizeBytes: number;
  /** Absent for pools whose volumes have no format of their own (logical, rbd: raw devices). */
  format?: DiskFormat;
  /** Bytes reserved up front; default 0 (sparse). Logical volumes are given all of it. */
  allocationBytes?: number;
  backingPath?: string;
  backingFormat?: DiskFormat;
}

export function buildVolumeXml(opts: VolumeXmlOptions): string {
  return serializeXml(
    el("volume", {}, [
      el("name", {}, opts.name),
      el("capacity", { unit: "bytes" }, opts.sizeBytes),
      el("allocation", { unit: "bytes" }, opts.allocationBytes ?? 0),
      opts.format !== undefined && el("target", {}, [el("format", { type: opts.format })]),
      opts.backingPath !== undefined && el("backingStore", {}, [el("path", {}, opts.backingPath), el("format", { type: opts.backingFormat ?? "qcow2" })]),
    ]),
  );
}

export interface ParsedVolume {
  name: string;
  /** file, block, network, dir, ... */
  type: string;
  path?: string;
  format?: string;
  capacityBytes?: number;
  allocationBytes?: number;
  backingPath?: string;
}

export function parseVolumeXml(xml: string): ParsedVolume {
  const root = parseXml(xml, "storage volume XML");
  if (root.local !== "volume") throw new HypervisorError("internal", `storage volume XML: root element is <${root.name}>, not <volume>`);
  const name = textOf(child(root, "name"));
  if (!name) throw new HypervisorError("internal", "storage volume XML: <name> is missing");
  const out: ParsedVolume = { name, type: attr(root, "type") ?? "file" };
  const target = child(root, "target");
  const path = child(target, "path")?.text;
  if (path) out.path = path;
  const format = attr(child(target, "format"), "type");
  if (format) out.format = format;
  const capacity = intOf(textOf(child(root, "capacity")), "storage volume XML <capacity>");
  if (capacity !== undefined) out.capacityBytes = capacity;
  const allocation = intOf(textOf(child(root, "allocation")), "storage volume XML <allocation>");
  if (allocation !== undefined) out.allocationBytes = allocation;
  const backing = child(child(root, "backingStore"), "path")?.text;
  if (backing) out.backingPath = backing;
  return out;
}

// Pool XML lives in pool-xml.ts; re-exported for the domain-xml index.
export { buildDirPoolXml } from "./pool-xml.ts";
