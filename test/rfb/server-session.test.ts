// The RFB server state machine fed byte fixtures: each protocol version's handshake, bytes
// split anywhere, the client's pixel format, and what it refuses.

import { describe, expect, test } from "bun:test";
import { encodeServerInit, PIXEL_FORMAT_XRGB32, RfbProtocolError } from "../../src/rfb/messages.ts";
import { createRfbServerSession } from "../../src/rfb/server-session.ts";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const ascii = (s: string) => new TextEncoder().encode(s);
const toHex = (parts: Uint8Array[]) => Buffer.concat(parts).toString("hex");
const INIT = { width: 640, height: 400, name: "vm-a" };
const serverInit = encodeServerInit({ ...INIT, pixelFormat: PIXEL_FORMAT_XRGB32 });

describe("handshake", () => {
  test("3.8: version, types [None], choice, SecurityResult OK, ClientInit, ServerInit", () => {
    const s = createRfbServerSession(INIT);
    expect(new TextDecoder().decode(s.greeting())).toBe("RFB 003.008\n");
    expect(toHex(s.receive(ascii("RFB 003.008\n")).replies)).toBe("0101");
    expect(toHex(s.receive(hex("01")).replies)).toBe("00000000");
    expect(s.ready).toBe(false);
    expect(toHex(s.receive(hex("01")).replies)).toBe(Buffer.from(serverInit).toString("hex"));
    expect(s.ready).toBe(true);
  });

  test("3.7 gets no SecurityResult; 3.3 (and 3.5) get the type as a u32", () => {
    const s7 = createRfbServerSession(INIT);
    expect(toHex(s7.receive(Buffer.concat([ascii("RFB 003.007\n"), hex("01 00")])).replies)).toBe(`0101${Buffer.from(serverInit).toString("hex")}`);
    for (const v of ["RFB 003.003\n", "RFB 003.005\n"]) {
      const s3 = createRfbServerSession(INIT);
      expect(toHex(s3.receive(Buffer.concat([ascii(v), hex("00")])).replies)).toBe(`00000001${Buffer.from(serverInit).toString("hex")}`);
    }
  });

  test("a whole session split into single bytes reads the same as in one piece", () => {
    const stream = Buffer.concat([
      ascii("RFB 003.008\n"),
      hex("01 01"),
      hex("00 000000 20 18 00 01 00ff 00ff 00ff 00 08 10 000000"), // noVNC's format
      hex("02 00 0001 00000000"),
      hex("03 00 0000 0000 0280 0190"),
      hex("05 00 0001 0001"),
      hex("03 01 0000 0000 0280 0190"),
    ]);
    const whole = createRfbServerSession(INIT).receive(Uint8Array.from(stream));
    const s = createRfbServerSession(INIT);
    const replies: Uint8Array[] = [];
    const requests: unknown[] = [];
    for (const byte of stream) {
      const r = s.receive(Uint8Array.of(byte));
      replies.push(...r.replies);
      requests.push(...r.requests);
    }
    expect(toHex(replies)).toBe(toHex(whole.replies));
    expect(requests).toEqual(whole.requests);
    expect(requests.map((r: any) => r.incremental)).toEqual([false, true]);
    expect(s.pixelFormat.redShift).toBe(0);
    expect(s.pixelFormat.blueShift).toBe(16);
  });

  test.each([
    ["an HTTP request", ascii("GET / HTTP/1.1\r\n"), "not an RFB protocol version"],
    ["RFB 4.0", ascii("RFB 004.000\n"), "not supported"],
    ["VNC authentication chosen", Buffer.concat([ascii("RFB 003.008\n"), hex("02")]), "only None (1)"],
    ["a colour map", Buffer.concat([ascii("RFB 003.008\n"), hex("01 01 00 000000 08 08 00 00 0000 0000 0000 00 00 00 000000")]), "true colour"],
    ["an unknown message", Buffer.concat([ascii("RFB 003.008\n"), hex("01 01 fc")]), "unknown client message type 252"],
  ])("refuses %s", (_name, bytes, why) => {
    const s = createRfbServerSession(INIT);
    let err: unknown;
    try {
      s.receive(Uint8Array.from(bytes));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RfbProtocolError);
    expect((err as Error).message).toContain(why);
  });
});
