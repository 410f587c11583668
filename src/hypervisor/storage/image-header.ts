// What an image file's first bytes say: qcow2 or raw, and a qcow2 image's virtual size (what the
// guest sees). A thin reader (readImageInfo) over pure parsers (formatOf, qcow2VirtualSize).
//
// qcow2 header (QEMU docs/interop/qcow2.txt), all big-endian:
//   0  magic "QFI\xfb"   4  version (2 or 3)   8  backing file offset (u64)
//   16 backing file name size (u32)   20 cluster bits (u32)   24 size in bytes (u64)

import { open } from "node:fs/promises";
import type { DiskFormat } from "../types.ts";

/** Bytes readImageInfo reads: enough for the fields above. */
export const IMAGE_HEADER_BYTES = 32;

export function isQcow2(header: Uint8Array | undefined): boolean {
  return header !== undefined && header.length >= 4 && header[0] === 0x51 && header[1] === 0x46 && header[2] === 0x49 && header[3] === 0xfb;
}

/** qcow2 by its magic; other readable content is raw; unreadable: guessed from the name. */
export function formatOf(path: string, header: Uint8Array | undefined): DiskFormat {
  if (isQcow2(header)) return "qcow2";
  if (header && header.length >= 4) return "raw";
  return path.endsWith(".qcow2") ? "qcow2" : "raw";
}

/**
 * A qcow2 image's virtual size; undefined when the header is not qcow2 version 2 or 3, is cut
 * short, or names a size beyond 2^53 (no image of ours is that big: treat it as unreadable).
 */
export function qcow2VirtualSize(header: Uint8Array): number | undefined {
  if (!isQcow2(header) || header.length < IMAGE_HEADER_BYTES) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const version = view.getUint32(4, false);
  if (version !== 2 && version !== 3) return undefined;
  const size = view.getBigUint64(24, false);
  return size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(size) : undefined;
}

export interface ImageInfo {
  format: DiskFormat;
  /** What the guest sees: the qcow2 header's size, or a raw file's length. */
  virtualSize: number;
}

/** Format and virtual size of the image at path; undefined when it cannot be read. */
export async function readImageInfo(path: string): Promise<ImageInfo | undefined> {
  try {
    const fh = await open(path, "r");
    try {
      const buf = new Uint8Array(IMAGE_HEADER_BYTES);
      const { bytesRead } = await fh.read(buf, 0, IMAGE_HEADER_BYTES, 0);
      const header = buf.subarray(0, bytesRead);
      if (isQcow2(header)) {
        const virtualSize = qcow2VirtualSize(header);
        return virtualSize === undefined ? undefined : { format: "qcow2", virtualSize };
      }
      return { format: "raw", virtualSize: (await fh.stat()).size };
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** The first bytes of a file (fewer when it is shorter), undefined when it cannot be read. */
export async function readHeader(path: string, bytes = 4): Promise<Uint8Array | undefined> {
  try {
    const fh = await open(path, "r");
    try {
      const buf = new Uint8Array(bytes);
      const { bytesRead } = await fh.read(buf, 0, bytes, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** An overlay is at least as big as its backing image: smaller would fail or hide data. */
export function overlaySize(requestedBytes: number, backingVirtualSize: number | undefined): number {
  return Math.max(requestedBytes, backingVirtualSize ?? 0);
}
