// The CD-ROM image cloud-init's NoCloud datasource reads: ISO 9660 with a Joliet tree, volume
// label "cidata", the files in a flat root directory. Written here rather than by genisoimage or
// xorriso because the daemon ships as one binary and runs no external tools.
//
// Image: system area (sectors 0-15), primary descriptor, Joliet descriptor, terminator, L and M
// path tables for each tree, the two root directories, then the file data. Both trees point at
// the same file extents. Output depends only on the input (not on file order or the clock):
// dates come from opts.date, by default the Unix epoch.

import { SECTOR, ascii, directoryRecord, directoryRecordLength, rootPathTableRecord, ucs2, MAX_YEAR, MIN_YEAR } from "./iso9660-records.ts";
import { checkFileNames, compareJoliet, comparePrimary, invalidCloudInit, primaryIdentifier, primaryNames, type PrimaryName } from "./iso9660-names.ts";
import { terminatorDescriptor, volumeDescriptor, type DescriptorKind } from "./iso9660-descriptors.ts";
import { FIXED_SECTORS, packDirectory, packRecords, planLayout } from "./iso9660-layout.ts";

export interface NoCloudIsoFile {
  name: string;
  /** A string is written as UTF-8. */
  content: string | Uint8Array;
}

export interface NoCloudIsoOptions {
  /** Default "cidata"; the primary descriptor gets it in upper case, the Joliet one as given. */
  volumeId?: string;
  /** Every timestamp in the image; default 1970-01-01T00:00:00Z, so builds are reproducible. */
  date?: Date;
}

export const DEFAULT_VOLUME_ID = "cidata";
export const DEFAULT_DATE = new Date(0);
const APPLICATION_ID = "LIMIQUANTIX-NODE";
/** Joliet's volume identifier field holds 16 UCS-2 characters. */
const VOLUME_ID = /^[A-Za-z0-9_-]{1,16}$/;
const PATH_TABLE_SIZE = 10; // one record: the root's

interface Entry {
  data: Uint8Array;
  /** Identifier bytes in each tree. */
  jolietId: Uint8Array;
  primaryId: Uint8Array;
  primaryName: PrimaryName;
}

/** The root directory's own "." and ".." records: one-byte identifiers 0x00 and 0x01. */
const DOT_RECORD_LENGTH = directoryRecordLength(1);

export function buildNoCloudIso(files: readonly NoCloudIsoFile[], opts: NoCloudIsoOptions = {}): Uint8Array {
  const volumeId = opts.volumeId ?? DEFAULT_VOLUME_ID;
  if (!VOLUME_ID.test(volumeId)) throw invalidCloudInit(`volume id ${JSON.stringify(volumeId)} must be 1-16 of A-Z a-z 0-9 _ -`);
  const date = opts.date ?? DEFAULT_DATE;
  const year = date.getUTCFullYear();
  if (Number.isNaN(date.getTime()) || year < MIN_YEAR || year > MAX_YEAR) {
    throw invalidCloudInit(`date must be a valid Date in the years ${MIN_YEAR}..${MAX_YEAR}`);
  }
  checkFileNames(files.map((f) => f.name));

  const entries = toEntries(files);
  const jolietTree = entries; // already in Joliet order
  const primaryTree = [...entries].sort((a, b) => comparePrimary(a.primaryName, b.primaryName));
  const primaryRootSize = rootSize(primaryTree.map((e) => e.primaryId));
  const jolietRootSize = rootSize(jolietTree.map((e) => e.jolietId));
  const layout = planLayout(
    primaryRootSize,
    jolietRootSize,
    entries.map((e) => e.data.length),
  );
  const extentOf = new Map(entries.map((e, i) => [e, layout.fileExtents[i] as number]));

  const image = new Uint8Array(layout.totalSectors * SECTOR);
  const put = (sector: number, bytes: Uint8Array) => image.set(bytes, sector * SECTOR);

  const writeTree = (kind: DescriptorKind, root: number, size: number, children: { id: Uint8Array; entry: Entry }[]) => {
    const self = (identifier: number) => directoryRecord({ extent: root, size, date, directory: true, identifier: Uint8Array.of(identifier) });
    const fileRecords = children.map(({ id, entry }) =>
      directoryRecord({ extent: extentOf.get(entry) as number, size: entry.data.length, date, directory: false, identifier: id }),
    );
    // "..": the root is its own parent.
    put(root, packDirectory([self(0x00), self(0x01), ...fileRecords]));

    const primaryKind = kind === "primary";
    const l = primaryKind ? FIXED_SECTORS.primaryLPathTable : FIXED_SECTORS.jolietLPathTable;
    const m = primaryKind ? FIXED_SECTORS.primaryMPathTable : FIXED_SECTORS.jolietMPathTable;
    put(l, rootPathTableRecord(root, true));
    put(m, rootPathTableRecord(root, false));
    const descriptor = volumeDescriptor({
      kind,
      // d-characters in the primary descriptor; libblkid reports the Joliet one, as given.
      volumeId: primaryKind ? volumeId.toUpperCase().replaceAll("-", "_") : volumeId,
      applicationId: APPLICATION_ID,
      volumeSpaceSize: layout.totalSectors,
      pathTableSize: PATH_TABLE_SIZE,
      lPathTable: l,
      mPathTable: m,
      rootRecord: self(0x00),
      date,
    });
    put(primaryKind ? FIXED_SECTORS.primaryDescriptor : FIXED_SECTORS.jolietDescriptor, descriptor);
  };
  writeTree(
    "primary",
    layout.primaryRoot,
    primaryRootSize,
    primaryTree.map((e) => ({ id: e.primaryId, entry: e })),
  );
  writeTree(
    "joliet",
    layout.jolietRoot,
    jolietRootSize,
    jolietTree.map((e) => ({ id: e.jolietId, entry: e })),
  );
  put(FIXED_SECTORS.terminator, terminatorDescriptor());
  for (const e of entries) if (e.data.length > 0) put(extentOf.get(e) as number, e.data);
  return image;
}

/** Encoded and sorted in Joliet order, which is also the order of the file data in the image. */
function toEntries(files: readonly NoCloudIsoFile[]): Entry[] {
  const utf8 = new TextEncoder();
  const sorted = [...files].sort((a, b) => compareJoliet(a.name, b.name));
  const primary = primaryNames(sorted.map((f) => f.name));
  return sorted.map((f, i) => {
    const data = typeof f.content === "string" ? utf8.encode(f.content) : f.content;
    // The data length field is 32 bits; bigger files would need multi-extent records.
    if (data.length > 0xffffffff) throw invalidCloudInit(`file ${JSON.stringify(f.name)} is larger than 4 GiB - 1`);
    const primaryName = primary[i] as PrimaryName;
    return { data, jolietId: ucs2(f.name), primaryId: ascii(primaryIdentifier(primaryName)), primaryName };
  });
}

/** Bytes of a root directory extent: ".", "..", then one record per identifier, packed by sector. */
function rootSize(identifiers: readonly Uint8Array[]): number {
  return packRecords([DOT_RECORD_LENGTH, DOT_RECORD_LENGTH, ...identifiers.map((id) => directoryRecordLength(id.length))]).size;
}
