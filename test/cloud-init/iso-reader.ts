// A minimal ISO 9660 reader for the tests, written from ECMA-119 independently of the writer's
// encoders (no imports from src/), so a mistake shared by both cannot hide. Reads only what a
// flat NoCloud image has: volume descriptors and one root directory per tree.

const SECTOR = 2048;

export interface Descriptor {
  type: number;
  volumeId: string;
  volumeSpaceSize: number;
  escape: string;
  pathTableSize: number;
  lPathTable: number;
  mPathTable: number;
  root: { extent: number; size: number };
}

export interface DirEntry {
  /** "." and ".." for the 0x00 / 0x01 identifiers; decoded per tree otherwise. */
  name: string;
  extent: number;
  size: number;
  directory: boolean;
  /** Byte offset of the record inside the directory extent. */
  offset: number;
  length: number;
}

const view = (image: Uint8Array) => new DataView(image.buffer, image.byteOffset, image.byteLength);

/** Both-endian 32-bit: the two halves must agree, or the reader refuses. */
function both32(image: Uint8Array, at: number): number {
  const le = view(image).getUint32(at, true);
  const be = view(image).getUint32(at + 4, false);
  if (le !== be) throw new Error(`both-endian mismatch at ${at}: ${le} vs ${be}`);
  return le;
}

function text(bytes: Uint8Array, ucs2: boolean): string {
  if (!ucs2) return String.fromCharCode(...bytes);
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(((bytes[i] as number) << 8) | (bytes[i + 1] as number));
  return out;
}

export function readDescriptor(image: Uint8Array, sector: number): Descriptor {
  const at = sector * SECTOR;
  const d = image.subarray(at, at + SECTOR);
  const ucs2 = d[0] === 2;
  return {
    type: d[0] as number,
    volumeId: text(d.subarray(40, 72), ucs2).trimEnd(),
    volumeSpaceSize: both32(d, 80),
    escape: text(d.subarray(88, 91), false),
    pathTableSize: both32(d, 132),
    lPathTable: view(d).getUint32(140, true),
    mPathTable: view(d).getUint32(148, false),
    root: { extent: both32(d, 156 + 2), size: both32(d, 156 + 10) },
  };
}

export function readDirectory(image: Uint8Array, extent: number, size: number, ucs2: boolean): DirEntry[] {
  const dir = image.subarray(extent * SECTOR, extent * SECTOR + size);
  const out: DirEntry[] = [];
  let at = 0;
  while (at < dir.length) {
    const length = dir[at] as number;
    // A zero length byte ends the records of this sector; the next sector may hold more.
    if (length === 0) {
      at = (Math.floor(at / SECTOR) + 1) * SECTOR;
      continue;
    }
    if ((at % SECTOR) + length > SECTOR) throw new Error(`record at ${at} crosses a sector boundary`);
    const idLength = dir[at + 32] as number;
    const id = dir.subarray(at + 33, at + 33 + idLength);
    const name = idLength === 1 && id[0] === 0 ? "." : idLength === 1 && id[0] === 1 ? ".." : text(id, ucs2);
    out.push({
      name,
      extent: both32(dir, at + 2),
      size: both32(dir, at + 10),
      directory: ((dir[at + 25] as number) & 0x02) !== 0,
      offset: at,
      length,
    });
    at += length;
  }
  return out;
}

/** The Joliet tree as name -> bytes, read through the supplementary descriptor in sector 17. */
export function readJolietFiles(image: Uint8Array): Map<string, Uint8Array> {
  const svd = readDescriptor(image, 17);
  const files = new Map<string, Uint8Array>();
  for (const r of readDirectory(image, svd.root.extent, svd.root.size, true)) {
    if (r.directory) continue;
    files.set(r.name, image.subarray(r.extent * SECTOR, r.extent * SECTOR + r.size));
  }
  return files;
}
