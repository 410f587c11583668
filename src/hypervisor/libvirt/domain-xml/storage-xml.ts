// Volume XML for virStorageVolCreateXML (pool XML: pool-xml.ts).

import type { DiskFormat } from "../../types.ts";
import { el, serializeXml } from "./xml-tree.ts";

export interface VolumeXmlOptions {
  name: string;
  sizeBytes: number;
  format: DiskFormat;
  backingPath?: string;
  backingFormat?: DiskFormat;
}

export function buildVolumeXml(opts: VolumeXmlOptions): string {
  return serializeXml(
    el("volume", {}, [
      el("name", {}, opts.name),
      el("capacity", { unit: "bytes" }, opts.sizeBytes),
      // Sparse: no space is reserved up front.
      el("allocation", { unit: "bytes" }, 0),
      el("target", {}, [el("format", { type: opts.format })]),
      opts.backingPath !== undefined &&
        el("backingStore", {}, [
          el("path", {}, opts.backingPath),
          el("format", { type: opts.backingFormat ?? "qcow2" }),
        ]),
    ]),
  );
}

// Pool XML lives in pool-xml.ts; re-exported for the domain-xml index.
export { buildDirPoolXml } from "./pool-xml.ts";
