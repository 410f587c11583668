// The QTX1 framing (contract 4.3): the worked example byte for byte, then properties over
// arbitrary payloads, chunkings and garbage.

import { describe, expect, test } from "bun:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { AgentMessageSchema } from "../../src/gen/limiquantix/agent/v1/agent_pb.ts";
import { createFrameDecoder, encodeFrame, FrameError, HEADER_BYTES, MAGIC, MAX_PAYLOAD_BYTES, RESYNC_BUDGET_BYTES } from "../../src/agent/framing.ts";

const hex = (s: string) =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .map((b) => parseInt(b, 16)),
  );
const raw = () => createFrameDecoder<Uint8Array>({ parse: (p) => p });

function header(len: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h.set(MAGIC);
  new DataView(h.buffer).setUint32(4, len >>> 0, false);
  return h;
}
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Splits bytes at the given cut points (sorted, deduplicated, within range). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  return out;
}

describe("worked example (contract 4.5)", () => {
  const ping = hex("51 54 58 01 00 00 00 13 0a 05 72 65 71 2d 31 12 06 08 80 e2 cf aa 06 52 02 08 07");
  const pong = hex("51 54 58 01 00 00 00 1f 0a 05 72 65 71 2d 31 12 06 08 81 e2 cf aa 06 92 03 0d 08 07 12 06 30 2e 31 2e 32 37 18 90 1c");

  test("our Ping encodes to the contract's bytes", () => {
    const m = create(AgentMessageSchema, { messageId: "req-1", timestamp: { seconds: 1700000000n }, payload: { case: "ping", value: { sequence: 7n } } });
    expect(encodeFrame(toBinary(AgentMessageSchema, m))).toEqual(ping);
  });

  test("the contract's Pong decodes to the expected message", () => {
    const [m] = createFrameDecoder({ parse: (p) => fromBinary(AgentMessageSchema, p) }).push(pong);
    expect(m?.messageId).toBe("req-1");
    expect(m?.timestamp?.seconds).toBe(1700000001n);
    expect(m?.payload.case).toBe("pong");
    if (m?.payload.case !== "pong") throw new Error("not a pong");
    expect(m.payload.value).toMatchObject({ sequence: 7n, version: "0.1.27", uptimeSeconds: 3600n });
  });
});

describe("encoder", () => {
  test("refuses a payload over 16 MiB and accepts exactly 16 MiB", () => {
    expect(() => encodeFrame(new Uint8Array(MAX_PAYLOAD_BYTES + 1))).toThrow(FrameError);
    expect(encodeFrame(new Uint8Array(MAX_PAYLOAD_BYTES)).length).toBe(MAX_PAYLOAD_BYTES + HEADER_BYTES);
  });
});

describe("decoder rules", () => {
  test("len 0 is discarded and the next frame still decodes", () => {
    const d = raw();
    expect(d.push(cat(header(0), encodeFrame(Uint8Array.of(1, 2))))).toEqual([Uint8Array.of(1, 2)]);
  });

  test("a length field equal to the magic (partial write) resyncs on the frame that starts there", () => {
    const d = raw();
    // "QTX1" then a new frame's full header: the first magic's length reads as the magic.
    expect(d.push(cat(MAGIC, encodeFrame(Uint8Array.of(9))))).toEqual([Uint8Array.of(9)]);
    expect(d.discarded()).toBe(0);
  });

  test("an oversize length is garbage: header discarded, next frame decodes", () => {
    const d = raw();
    expect(d.push(cat(header(MAX_PAYLOAD_BYTES + 1), encodeFrame(Uint8Array.of(5))))).toEqual([Uint8Array.of(5)]);
  });

  test("a payload that does not parse is discarded, counted, and decoding goes on", () => {
    const d = createFrameDecoder({ parse: (p) => (p[0] === 0xff ? undefined : p) });
    expect(d.push(cat(encodeFrame(Uint8Array.of(0xff, 1)), encodeFrame(Uint8Array.of(3))))).toEqual([Uint8Array.of(3)]);
  });

  test("more than 64 KiB without a message is an error; exactly 64 KiB is not", () => {
    const ok = raw();
    expect(ok.push(new Uint8Array(RESYNC_BUDGET_BYTES).fill(0x42))).toEqual([]);
    expect(() => ok.push(Uint8Array.of(0x42))).toThrow(FrameError);
  });

  test("a good frame resets the budget", () => {
    const d = raw();
    for (let i = 0; i < 4; i++) expect(d.push(cat(new Uint8Array(60_000).fill(7), encodeFrame(Uint8Array.of(i))))).toEqual([Uint8Array.of(i)]);
  });

  test("a magic prefix at the end of a chunk is kept for the next chunk", () => {
    const d = raw();
    const f = encodeFrame(Uint8Array.of(1, 2, 3));
    expect(d.push(cat(Uint8Array.of(0, 0x51, 0x54), f.subarray(0, 0)))).toEqual([]);
    // "QT" + "QTX1..." : the restart rule finds the real magic.
    expect(d.push(f)).toEqual([Uint8Array.of(1, 2, 3)]);
  });
});

describe("properties", () => {
  const payload = fc.uint8Array({ minLength: 1, maxLength: 2048 });

  test("frames round-trip in order however the stream is chunked", () => {
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 40 }), (payloads, cuts) => {
        const stream = cat(...payloads.map(encodeFrame));
        const d = raw();
        const got = split(stream, cuts).flatMap((c) => d.push(c));
        expect(got).toEqual(payloads);
        expect(d.buffered()).toBe(0);
      }),
    );
  });

  test("garbage without the magic before and between frames is skipped", () => {
    const noMagic = fc.uint8Array({ maxLength: 3000 }).map((g) => g.map((b) => (b === 0x51 ? 0x50 : b)));
    fc.assert(
      fc.property(fc.array(fc.tuple(noMagic, payload), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (items, cuts) => {
        const stream = cat(...items.flatMap(([g, p]) => [g, encodeFrame(p)]));
        const d = raw();
        expect(split(stream, cuts).flatMap((c) => d.push(c))).toEqual(items.map(([, p]) => p));
      }),
    );
  });

  test("any bytes at all never throw anything but FrameError and never yield more than they could hold", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 4096 }), { maxLength: 30 }), (chunks) => {
        const d = raw();
        let total = 0;
        let bytes = 0;
        try {
          for (const c of chunks) {
            bytes += c.length;
            total += d.push(c).reduce((n, p) => n + p.length + HEADER_BYTES, 0);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(FrameError);
        }
        expect(total).toBeLessThanOrEqual(bytes);
      }),
    );
  });
});
