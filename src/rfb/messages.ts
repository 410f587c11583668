// RFB (the VNC protocol, RFC 6143) messages as pure encoders and decoders: what the mock's
// console server and the tests' RFB client need, nothing more. Decoders take the bytes received
// so far and return undefined while a message is incomplete, so a stream reader can call them
// again when more bytes arrive; bytes that can never be valid are an RfbProtocolError.

export class RfbProtocolError extends Error {
  override readonly name = "RfbProtocolError";
}

export const RFB_VERSION_3_8 = "RFB 003.008\n";
export const SECURITY_NONE = 1;
export const ENCODING_RAW = 0;

export interface PixelFormat {
  bitsPerPixel: 8 | 16 | 32;
  depth: number;
  bigEndian: boolean;
  trueColour: boolean;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

/** What the mock announces: 32 bits per pixel, depth 24, little-endian 0x00RRGGBB. */
export const PIXEL_FORMAT_XRGB32: PixelFormat = {
  bitsPerPixel: 32,
  depth: 24,
  bigEndian: false,
  trueColour: true,
  redMax: 255,
  greenMax: 255,
  blueMax: 255,
  redShift: 16,
  greenShift: 8,
  blueShift: 0,
};

const u16 = (b: Uint8Array, at: number) => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);
const s32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(at);

// ---- handshake

/** "RFB 003.008\n" -> 8; the minor version a 12-byte ProtocolVersion message names. */
export function parseProtocolVersion(bytes: Uint8Array): { major: number; minor: number } | undefined {
  if (bytes.length < 12) return undefined;
  const text = new TextDecoder().decode(bytes.subarray(0, 12));
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(text);
  if (!m) throw new RfbProtocolError(`not an RFB protocol version: ${JSON.stringify(text)}`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** RFB 3.7 and later: the list of security types the server offers. */
export const encodeSecurityTypes = (types: readonly number[]) => Uint8Array.of(types.length, ...types);

/** SecurityResult: 0 is OK. */
export const encodeSecurityResult = (ok: boolean) => Uint8Array.of(0, 0, 0, ok ? 0 : 1);

export function encodePixelFormat(pf: PixelFormat): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  b[0] = pf.bitsPerPixel;
  b[1] = pf.depth;
  b[2] = pf.bigEndian ? 1 : 0;
  b[3] = pf.trueColour ? 1 : 0;
  v.setUint16(4, pf.redMax);
  v.setUint16(6, pf.greenMax);
  v.setUint16(8, pf.blueMax);
  b[10] = pf.redShift;
  b[11] = pf.greenShift;
  b[12] = pf.blueShift;
  return b;
}

export function decodePixelFormat(b: Uint8Array): PixelFormat {
  const bpp = b[0] ?? 0;
  if (bpp !== 8 && bpp !== 16 && bpp !== 32) throw new RfbProtocolError(`unsupported bits per pixel ${bpp} (8, 16 or 32)`);
  return {
    bitsPerPixel: bpp,
    depth: b[1] ?? 0,
    bigEndian: (b[2] ?? 0) !== 0,
    trueColour: (b[3] ?? 0) !== 0,
    redMax: u16(b, 4),
    greenMax: u16(b, 6),
    blueMax: u16(b, 8),
    redShift: b[10] ?? 0,
    greenShift: b[11] ?? 0,
    blueShift: b[12] ?? 0,
  };
}

export interface ServerInit {
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  name: string;
}

export function encodeServerInit(init: ServerInit): Uint8Array {
  const name = new TextEncoder().encode(init.name);
  const b = new Uint8Array(24 + name.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, init.width);
  v.setUint16(2, init.height);
  b.set(encodePixelFormat(init.pixelFormat), 4);
  v.setUint32(20, name.length);
  b.set(name, 24);
  return b;
}

export function parseServerInit(b: Uint8Array): { init: ServerInit; length: number } | undefined {
  if (b.length < 24) return undefined;
  const nameLength = u32(b, 20);
  if (b.length < 24 + nameLength) return undefined;
  return {
    init: {
      width: u16(b, 0),
      height: u16(b, 2),
      pixelFormat: decodePixelFormat(b.subarray(4, 20)),
      name: new TextDecoder().decode(b.subarray(24, 24 + nameLength)),
    },
    length: 24 + nameLength,
  };
}

// ---- client to server

export type ClientMessage =
  | { type: "set_pixel_format"; pixelFormat: PixelFormat }
  | { type: "set_encodings"; encodings: number[] }
  | { type: "update_request"; incremental: boolean; x: number; y: number; width: number; height: number }
  | { type: "key"; down: boolean; key: number }
  | { type: "pointer"; buttons: number; x: number; y: number }
  | { type: "cut_text"; text: string };

/** Longest cut text accepted from a client (its length field could otherwise ask for 4 GiB). */
export const MAX_CUT_TEXT = 1 << 20;

/** One client message from the start of `b`, or undefined while it is incomplete. */
export function parseClientMessage(b: Uint8Array): { message: ClientMessage; length: number } | undefined {
  if (b.length < 1) return undefined;
  const type = b[0];
  switch (type) {
    case 0:
      return b.length < 20 ? undefined : { message: { type: "set_pixel_format", pixelFormat: decodePixelFormat(b.subarray(4, 20)) }, length: 20 };
    case 2: {
      if (b.length < 4) return undefined;
      const count = u16(b, 2);
      if (b.length < 4 + 4 * count) return undefined;
      const encodings = Array.from({ length: count }, (_, i) => s32(b, 4 + 4 * i));
      return { message: { type: "set_encodings", encodings }, length: 4 + 4 * count };
    }
    case 3:
      return b.length < 10
        ? undefined
        : { message: { type: "update_request", incremental: b[1] !== 0, x: u16(b, 2), y: u16(b, 4), width: u16(b, 6), height: u16(b, 8) }, length: 10 };
    case 4:
      return b.length < 8 ? undefined : { message: { type: "key", down: b[1] !== 0, key: u32(b, 4) }, length: 8 };
    case 5:
      return b.length < 6 ? undefined : { message: { type: "pointer", buttons: b[1] ?? 0, x: u16(b, 2), y: u16(b, 4) }, length: 6 };
    case 6: {
      if (b.length < 8) return undefined;
      const n = u32(b, 4);
      if (n > MAX_CUT_TEXT) throw new RfbProtocolError(`cut text of ${n} bytes is over the ${MAX_CUT_TEXT}-byte limit`);
      if (b.length < 8 + n) return undefined;
      return { message: { type: "cut_text", text: new TextDecoder("latin1").decode(b.subarray(8, 8 + n)) }, length: 8 + n };
    }
    default:
      throw new RfbProtocolError(`unknown client message type ${type} (this server offers no extensions)`);
  }
}

export function encodeSetPixelFormat(pf: PixelFormat): Uint8Array {
  const b = new Uint8Array(20);
  b.set(encodePixelFormat(pf), 4);
  return b;
}

export function encodeSetEncodings(encodings: readonly number[]): Uint8Array {
  const b = new Uint8Array(4 + 4 * encodings.length);
  const v = new DataView(b.buffer);
  b[0] = 2;
  v.setUint16(2, encodings.length);
  encodings.forEach((e, i) => {
    v.setInt32(4 + 4 * i, e);
  });
  return b;
}

export function encodeUpdateRequest(r: { incremental: boolean; x: number; y: number; width: number; height: number }): Uint8Array {
  const b = new Uint8Array(10);
  const v = new DataView(b.buffer);
  b[0] = 3;
  b[1] = r.incremental ? 1 : 0;
  v.setUint16(2, r.x);
  v.setUint16(4, r.y);
  v.setUint16(6, r.width);
  v.setUint16(8, r.height);
  return b;
}

// ---- server to client

export interface RawRect {
  x: number;
  y: number;
  width: number;
  height: number;
  /** width * height pixels in the client's pixel format (raw encoding). */
  pixels: Uint8Array;
}

export function encodeFramebufferUpdate(rects: readonly RawRect[]): Uint8Array {
  const size = 4 + rects.reduce((n, r) => n + 12 + r.pixels.length, 0);
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint16(2, rects.length);
  let at = 4;
  for (const r of rects) {
    v.setUint16(at, r.x);
    v.setUint16(at + 2, r.y);
    v.setUint16(at + 4, r.width);
    v.setUint16(at + 6, r.height);
    v.setInt32(at + 8, ENCODING_RAW);
    b.set(r.pixels, at + 12);
    at += 12 + r.pixels.length;
  }
  return b;
}

/** A FramebufferUpdate in raw encoding (the only one the mock sends), for an RFB client. */
export function parseFramebufferUpdate(b: Uint8Array, bytesPerPixel: number): { rects: RawRect[]; length: number } | undefined {
  if (b.length >= 1 && b[0] !== 0) throw new RfbProtocolError(`expected a FramebufferUpdate (type 0), got message type ${b[0]}`);
  if (b.length < 4) return undefined;
  const count = u16(b, 2);
  const rects: RawRect[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (b.length < at + 12) return undefined;
    const [x, y, width, height] = [u16(b, at), u16(b, at + 2), u16(b, at + 4), u16(b, at + 6)];
    const encoding = s32(b, at + 8);
    if (encoding !== ENCODING_RAW) throw new RfbProtocolError(`rectangle ${i} has encoding ${encoding}; this client reads raw (0) only`);
    const size = width * height * bytesPerPixel;
    if (b.length < at + 12 + size) return undefined;
    rects.push({ x, y, width, height, pixels: b.slice(at + 12, at + 12 + size) });
    at += 12 + size;
  }
  return { rects, length: at };
}

/** 0xRRGGBB colours as pixels of `pf` (true colour only). */
export function encodePixels(rgb: Uint32Array, pf: PixelFormat): Uint8Array {
  if (!pf.trueColour) throw new RfbProtocolError("colour-map pixel formats are not supported; ask for true colour");
  const bytes = pf.bitsPerPixel / 8;
  const out = new Uint8Array(rgb.length * bytes);
  const v = new DataView(out.buffer);
  const little = !pf.bigEndian;
  const scale = (c: number, max: number) => (max === 255 ? c : Math.round((c * max) / 255));
  for (let i = 0; i < rgb.length; i++) {
    const c = rgb[i] ?? 0;
    const p =
      (scale((c >>> 16) & 0xff, pf.redMax) << pf.redShift) |
      (scale((c >>> 8) & 0xff, pf.greenMax) << pf.greenShift) |
      (scale(c & 0xff, pf.blueMax) << pf.blueShift);
    if (bytes === 4) v.setUint32(i * 4, p >>> 0, little);
    else if (bytes === 2) v.setUint16(i * 2, p & 0xffff, little);
    else out[i] = p & 0xff;
  }
  return out;
}
