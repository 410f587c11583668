// Binary encoders for the ISO 9660 (ECMA-119) structures a NoCloud image needs: both-endian
// integers, the two date formats, directory records, path table records and the padded text
// fields of the volume descriptors. Every function returns fresh bytes; nothing here knows the
// image layout. Section numbers are ECMA-119 (4th edition, 2019).

export const SECTOR = 2048;

/** 7.3.3: 16-bit little-endian then big-endian ("both-byte order"), 4 bytes. */
export function bothEndian16(n: number): Uint8Array {
  checkUint(n, 0xffff, "bothEndian16");
  const out = new Uint8Array(4);
  const v = new DataView(out.buffer);
  v.setUint16(0, n, true);
  v.setUint16(2, n, false);
  return out;
}

/** 7.3.3: 32-bit little-endian then big-endian, 8 bytes. */
export function bothEndian32(n: number): Uint8Array {
  checkUint(n, 0xffffffff, "bothEndian32");
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, n, true);
  v.setUint32(4, n, false);
  return out;
}

/** 7.3.1 / 7.3.2: one byte order only (path tables exist once per byte order). */
export function uint32(n: number, littleEndian: boolean): Uint8Array {
  checkUint(n, 0xffffffff, "uint32");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, littleEndian);
  return out;
}

export function uint16(n: number, littleEndian: boolean): Uint8Array {
  checkUint(n, 0xffff, "uint16");
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, n, littleEndian);
  return out;
}

// DataView would silently wrap a negative or oversized value into a different valid number,
// which in a filesystem header means a wrong extent, not an error: refuse instead.
function checkUint(n: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${what}: ${n} is not an integer in 0..${max}`);
}

/** The years a directory record can hold: its year is one byte counted from 1900. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 1900 + 255;

/** 9.1.5: directory record date, 7 bytes, always written in UTC (offset 0). */
export function directoryDate(date: Date): Uint8Array {
  checkDate(date);
  return Uint8Array.of(
    date.getUTCFullYear() - 1900,
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCHours(),
    date.getUTCMinutes(),
    date.getUTCSeconds(),
    0,
  );
}

/**
 * 8.4.26.1: volume descriptor date, 16 ASCII digits (YYYYMMDDHHMMSS and hundredths) and a zero
 * UTC offset. `undefined` is the standard's "not specified": sixteen '0' digits and offset 0.
 */
export function volumeDate(date: Date | undefined): Uint8Array {
  if (date === undefined) return Uint8Array.from([...ascii("0".repeat(16)), 0]);
  checkDate(date);
  const two = (n: number) => String(n).padStart(2, "0");
  const text =
    String(date.getUTCFullYear()).padStart(4, "0") +
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    two(Math.floor(date.getUTCMilliseconds() / 10));
  return Uint8Array.from([...ascii(text), 0]);
}

function checkDate(date: Date): void {
  if (Number.isNaN(date.getTime())) throw new RangeError("ISO 9660 date: invalid Date");
  const year = date.getUTCFullYear();
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new RangeError(`ISO 9660 date: year ${year} is outside ${MIN_YEAR}..${MAX_YEAR}`);
  }
}

export interface DirectoryRecordInput {
  /** First sector of the file or directory. */
  extent: number;
  /** Bytes (a directory: its whole extent, a multiple of SECTOR). */
  size: number;
  date: Date;
  directory: boolean;
  /** Already encoded: d-characters for the primary tree, UCS-2 for Joliet, 0x00 / 0x01 for "." / "..". */
  identifier: Uint8Array;
}

/** Length of the record directoryRecord() writes for an identifier of this many bytes (9.1.1, 9.1.12). */
export function directoryRecordLength(identifierBytes: number): number {
  return 33 + identifierBytes + (identifierBytes % 2 === 0 ? 1 : 0);
}

/** 9.1: one directory record; padded to an even length as the standard requires. */
export function directoryRecord(r: DirectoryRecordInput): Uint8Array {
  const length = directoryRecordLength(r.identifier.length);
  if (r.identifier.length === 0 || length > 255) {
    throw new RangeError(`directory record: identifier of ${r.identifier.length} bytes does not fit`);
  }
  const out = new Uint8Array(length);
  out[0] = length;
  out[1] = 0; // no extended attribute record
  out.set(bothEndian32(r.extent), 2);
  out.set(bothEndian32(r.size), 10);
  out.set(directoryDate(r.date), 18);
  out[25] = r.directory ? 0x02 : 0x00; // file flags: 0x02 = directory
  out[26] = 0; // file unit size: not interleaved
  out[27] = 0; // interleave gap
  out.set(bothEndian16(1), 28); // volume sequence number
  out[32] = r.identifier.length;
  out.set(r.identifier, 33);
  return out;
}

/** 9.4: the path table record of the root directory (the only directory we write), 10 bytes. */
export function rootPathTableRecord(extent: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(10);
  out[0] = 1; // directory identifier length: the root's is the single byte 0x00
  out[1] = 0; // no extended attribute record
  out.set(uint32(extent, littleEndian), 2);
  out.set(uint16(1, littleEndian), 6); // parent directory number: the root is its own parent
  return out; // bytes 8 (identifier 0x00) and 9 (padding) stay zero
}

/** Code units 0..127 only; the callers have already restricted the text to a- or d-characters. */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e) throw new RangeError(`not ASCII: ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

/** 7.4: a fixed-width a-/d-character field, padded with spaces. */
export function paddedAscii(text: string, width: number): Uint8Array {
  if (text.length > width) throw new RangeError(`${JSON.stringify(text)} is longer than its ${width}-byte field`);
  const out = new Uint8Array(width).fill(0x20);
  out.set(ascii(text), 0);
  return out;
}

/** Joliet: UCS-2 big-endian; callers have rejected code points outside the BMP. */
export function ucs2(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < text.length; i++) v.setUint16(i * 2, text.charCodeAt(i), false);
  return out;
}

/**
 * Joliet: a fixed-width field in UCS-2, padded with UCS-2 spaces (00 20). The 37-byte file
 * identifier fields have an odd width; their last byte stays 0.
 */
export function paddedUcs2(text: string, width: number): Uint8Array {
  if (text.length * 2 > width) throw new RangeError(`${JSON.stringify(text)} is longer than its ${width}-byte field`);
  const out = new Uint8Array(width);
  for (let i = 0; i + 1 < width; i += 2) out[i + 1] = 0x20;
  out.set(ucs2(text), 0);
  return out;
}
