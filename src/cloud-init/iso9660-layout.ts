// Where everything goes in the image, in sectors, and how directory records are packed into a
// directory extent. Sizes only: no bytes of file data pass through here.

import { SECTOR } from "./iso9660-records.ts";

/**
 * Fixed part of the image: sectors 0-15 are the system area (zeros), then the descriptors and
 * the four one-record path tables, each in a sector of its own.
 */
export const FIXED_SECTORS = {
  primaryDescriptor: 16,
  jolietDescriptor: 17,
  terminator: 18,
  primaryLPathTable: 19,
  primaryMPathTable: 20,
  jolietLPathTable: 21,
  jolietMPathTable: 22,
} as const;
const FIRST_FREE_SECTOR = 23;

/**
 * ECMA-119 6.8.1.1: a directory record never crosses a sector boundary; when the next one does
 * not fit, the rest of the sector stays zero and it starts the next sector. Returns each
 * record's byte offset and the extent's size (whole sectors, at least one).
 */
export function packRecords(lengths: readonly number[]): { offsets: number[]; size: number } {
  const offsets: number[] = [];
  let at = 0;
  for (const length of lengths) {
    if (length > SECTOR) throw new RangeError(`directory record of ${length} bytes`);
    if ((at % SECTOR) + length > SECTOR) at = Math.ceil(at / SECTOR) * SECTOR;
    offsets.push(at);
    at += length;
  }
  return { offsets, size: Math.max(1, Math.ceil(at / SECTOR)) * SECTOR };
}

/** The packed extent itself, its size as packRecords() computed it. */
export function packDirectory(records: readonly Uint8Array[]): Uint8Array {
  const { offsets, size } = packRecords(records.map((r) => r.length));
  const out = new Uint8Array(size);
  for (const [i, r] of records.entries()) out.set(r, offsets[i] as number);
  return out;
}

export interface Layout {
  primaryRoot: number;
  jolietRoot: number;
  /** Extent of each file, in the order of the sizes given. */
  fileExtents: number[];
  totalSectors: number;
}

export const sectorsFor = (bytes: number) => Math.ceil(bytes / SECTOR);

/**
 * Root directories after the fixed part, then the file data, each file starting on a sector
 * of its own. Empty files take no data sectors; they all point at one shared zero sector (as
 * libisofs does), so that every extent in the image lies inside the volume.
 */
export function planLayout(primaryRootSize: number, jolietRootSize: number, fileSizes: readonly number[]): Layout {
  let next = FIRST_FREE_SECTOR;
  const take = (sectors: number) => {
    const at = next;
    next += sectors;
    return at;
  };
  const primaryRoot = take(sectorsFor(primaryRootSize));
  const jolietRoot = take(sectorsFor(jolietRootSize));
  const emptyFileSector = fileSizes.includes(0) ? take(1) : 0;
  const fileExtents = fileSizes.map((size) => (size === 0 ? emptyFileSector : take(sectorsFor(size))));
  return { primaryRoot, jolietRoot, fileExtents, totalSectors: next };
}
