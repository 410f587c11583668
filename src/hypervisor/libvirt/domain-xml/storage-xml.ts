// Storage pool and volume XML for virStoragePoolDefineXML / virStorageVolCreateXML.

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

export function buildDirPoolXml(opts: { name: string; path: string }): string {
  return serializeXml(
    el("pool", { type: "dir" }, [el("name", {}, opts.name), el("target", {}, [el("path", {}, opts.path)])]),
  );
}
