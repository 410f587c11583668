// The RFB codec against byte fixtures written out by hand from RFC 6143's message layouts.

import { describe, expect, test } from "bun:test";
import {
  decodePixelFormat,
  encodeFramebufferUpdate,
  encodePixelFormat,
  encodePixels,
  encodeServerInit,
  encodeSetEncodings,
  encodeSetPixelFormat,
  encodeUpdateRequest,
  PIXEL_FORMAT_XRGB32,
  type PixelFormat,
  parseClientMessage,
  parseFramebufferUpdate,
  parseProtocolVersion,
  parseServerInit,
  RfbProtocolError,
} from "../../src/rfb/messages.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// noVNC's pixel format: 32 bpp, depth 24, little-endian, red in the lowest byte.
const NOVNC_PF: PixelFormat = { ...PIXEL_FORMAT_XRGB32, redShift: 0, blueShift: 16 };
const NOVNC_PF_BYTES = "20 18 00 01 00ff 00ff 00ff 00 08 10 000000";

describe("handshake", () => {
  test("protocol versions", () => {
    expect(parseProtocolVersion(new TextEncoder().encode("RFB 003.008\n"))).toEqual({ major: 3, minor: 8 });
    expect(parseProtocolVersion(new TextEncoder().encode("RFB 003.00"))).toBeUndefined();
    expect(() => parseProtocolVersion(new TextEncoder().encode("GET / HTTP/1.1\r\n"))).toThrow(RfbProtocolError);
  });

  test("pixel format both ways", () => {
    expect(toHex(encodePixelFormat(PIXEL_FORMAT_XRGB32))).toBe(toHex(hex("20 18 00 01 00ff 00ff 00ff 10 08 00 000000")));
    expect(decodePixelFormat(hex(NOVNC_PF_BYTES))).toEqual(NOVNC_PF);
    expect(() => decodePixelFormat(hex("18 18 00 01 00ff 00ff 00ff 10 08 00 000000"))).toThrow("unsupported bits per pixel 24");
  });

  test("ServerInit: 640x400, the format, a name; incomplete is undefined", () => {
    const bytes = encodeServerInit({ width: 640, height: 400, pixelFormat: PIXEL_FORMAT_XRGB32, name: "vm-1" });
    expect(toHex(bytes)).toBe(toHex(hex("0280 0190 20 18 00 01 00ff 00ff 00ff 10 08 00 000000 00000004 766d2d31")));
    expect(parseServerInit(bytes.subarray(0, 26))).toBeUndefined();
    expect(parseServerInit(bytes)).toEqual({ init: { width: 640, height: 400, pixelFormat: PIXEL_FORMAT_XRGB32, name: "vm-1" }, length: 28 });
  });
});

describe("client messages", () => {
  test.each([
    ["SetPixelFormat", `00 000000 ${NOVNC_PF_BYTES}`, { type: "set_pixel_format", pixelFormat: NOVNC_PF }],
    ["SetEncodings raw, copyrect, DesktopSize", "02 00 0003 00000000 00000001 ffffff21", { type: "set_encodings", encodings: [0, 1, -223] }],
    ["FramebufferUpdateRequest", "03 01 0000 0010 0280 0030", { type: "update_request", incremental: true, x: 0, y: 16, width: 640, height: 48 }],
    ["KeyEvent", "04 01 0000 0000ff0d", { type: "key", down: true, key: 0xff0d }],
    ["PointerEvent", "05 01 0064 00c8", { type: "pointer", buttons: 1, x: 100, y: 200 }],
    ["ClientCutText", "06 000000 00000002 6869", { type: "cut_text", text: "hi" }],
  ])("%s", (_name, bytes, message) => {
    const b = hex(bytes);
    expect(parseClientMessage(b)).toEqual({ message: message as never, length: b.length });
    // Every shorter prefix is "not yet", never an error or a wrong message.
    for (let n = 0; n < b.length; n++) expect(parseClientMessage(b.subarray(0, n))).toBeUndefined();
    // Followed by the next message, it reports only its own length.
    expect(parseClientMessage(Buffer.concat([b, hex("05 00 0000 0000")]))?.length).toBe(b.length);
  });

  test("encoders write what the parser reads", () => {
    expect(toHex(encodeSetPixelFormat(NOVNC_PF))).toBe(toHex(hex(`00 000000 ${NOVNC_PF_BYTES}`)));
    expect(toHex(encodeSetEncodings([0, 1, -223]))).toBe(toHex(hex("02 00 0003 00000000 00000001 ffffff21")));
    expect(toHex(encodeUpdateRequest({ incremental: true, x: 0, y: 16, width: 640, height: 48 }))).toBe(toHex(hex("03 01 0000 0010 0280 0030")));
  });

  test("unknown types and oversized cut text are protocol errors", () => {
    expect(() => parseClientMessage(hex("ff 00"))).toThrow("unknown client message type 255");
    expect(() => parseClientMessage(hex("06 000000 7fffffff"))).toThrow("over the");
  });
});

describe("framebuffer updates", () => {
  test("one raw 2x1 rectangle both ways", () => {
    const bytes = encodeFramebufferUpdate([{ x: 3, y: 4, width: 2, height: 1, pixels: hex("00112233 44556677") }]);
    expect(toHex(bytes)).toBe(toHex(hex("00 00 0001  0003 0004 0002 0001 00000000  00112233 44556677")));
    expect(parseFramebufferUpdate(bytes.subarray(0, bytes.length - 1), 4)).toBeUndefined();
    expect(parseFramebufferUpdate(bytes, 4)).toEqual({ rects: [{ x: 3, y: 4, width: 2, height: 1, pixels: hex("00112233 44556677") }], length: bytes.length });
    expect(() => parseFramebufferUpdate(hex("02"), 4)).toThrow("expected a FramebufferUpdate");
  });

  test("pixels in the server's format, noVNC's, 16 bpp big-endian RGB565, and 8 bpp BGR233", () => {
    const rgb = Uint32Array.of(0xff8000, 0x0000ff);
    expect(toHex(encodePixels(rgb, PIXEL_FORMAT_XRGB32))).toBe("0080ff00ff000000");
    expect(toHex(encodePixels(rgb, NOVNC_PF))).toBe("ff8000000000ff00");
    const rgb565: PixelFormat = {
      bitsPerPixel: 16,
      depth: 16,
      bigEndian: true,
      trueColour: true,
      redMax: 31,
      greenMax: 63,
      blueMax: 31,
      redShift: 11,
      greenShift: 5,
      blueShift: 0,
    };
    expect(toHex(encodePixels(rgb, rgb565))).toBe("fc00001f");
    const bgr233: PixelFormat = {
      bitsPerPixel: 8,
      depth: 8,
      bigEndian: false,
      trueColour: true,
      redMax: 7,
      greenMax: 7,
      blueMax: 3,
      redShift: 0,
      greenShift: 3,
      blueShift: 6,
    };
    expect(toHex(encodePixels(rgb, bgr233))).toBe("27c0");
    expect(() => encodePixels(rgb, { ...NOVNC_PF, trueColour: false })).toThrow("true colour");
  });
});
