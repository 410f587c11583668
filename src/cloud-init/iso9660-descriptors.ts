// Volume descriptors (ECMA-119 8.4, 8.5, 8.3): the primary one, the Joliet supplementary one
// (same layout; identifiers in UCS-2 and the escape sequence that announces Joliet) and the
// set terminator. Offsets below are 0-based (the standard counts from 1).

import { SECTOR, ascii, bothEndian16, bothEndian32, paddedAscii, paddedUcs2, uint32, volumeDate } from "./iso9660-records.ts";

export type DescriptorKind = "primary" | "joliet";

export interface VolumeDescriptorInput {
  kind: DescriptorKind;
  /** Already valid for the kind: d-characters for primary; any BMP text for Joliet. */
  volumeId: string;
  applicationId: string;
  volumeSpaceSize: number;
  pathTableSize: number;
  lPathTable: number;
  mPathTable: number;
  /** The 34-byte directory record of the root directory. */
  rootRecord: Uint8Array;
  date: Date;
}

/** "%/E": UCS-2 level 3, the escape sequence Joliet readers (Linux isofs, libblkid) look for. */
const JOLIET_ESCAPE = ascii("%/E");

export function volumeDescriptor(d: VolumeDescriptorInput): Uint8Array {
  if (d.rootRecord.length !== 34) throw new RangeError(`root directory record is ${d.rootRecord.length} bytes, not 34`);
  const text = d.kind === "primary" ? paddedAscii : paddedUcs2;
  const out = new Uint8Array(SECTOR);
  out[0] = d.kind === "primary" ? 1 : 2;
  out.set(ascii("CD001"), 1);
  out[6] = 1; // descriptor version
  out[7] = 0; // supplementary: volume flags, 0 = only ISO 2022 registered escape sequences
  out.set(text("", 32), 8); // system identifier
  out.set(text(d.volumeId, 32), 40);
  out.set(bothEndian32(d.volumeSpaceSize), 80);
  if (d.kind === "joliet") out.set(JOLIET_ESCAPE, 88);
  out.set(bothEndian16(1), 120); // volume set size
  out.set(bothEndian16(1), 124); // volume sequence number
  out.set(bothEndian16(SECTOR), 128); // logical block size
  out.set(bothEndian32(d.pathTableSize), 132);
  out.set(uint32(d.lPathTable, true), 140); // 144: no optional L path table
  out.set(uint32(d.mPathTable, false), 148); // 152: no optional M path table
  out.set(d.rootRecord, 156);
  out.set(text("", 128), 190); // volume set identifier
  out.set(text("", 128), 318); // publisher
  out.set(text("", 128), 446); // data preparer
  out.set(text(d.applicationId, 128), 574);
  out.set(text("", 37), 702); // copyright file
  out.set(text("", 37), 739); // abstract file
  out.set(text("", 37), 776); // bibliographic file
  out.set(volumeDate(d.date), 813); // creation
  out.set(volumeDate(d.date), 830); // modification
  out.set(volumeDate(undefined), 847); // expiration: none
  out.set(volumeDate(d.date), 864); // effective
  out[881] = 1; // file structure version
  return out;
}

/** 8.3: the volume descriptor set terminator. */
export function terminatorDescriptor(): Uint8Array {
  const out = new Uint8Array(SECTOR);
  out[0] = 255;
  out.set(ascii("CD001"), 1);
  out[6] = 1;
  return out;
}
