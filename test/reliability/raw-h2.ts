// A deliberately minimal HTTP/2 client over a plain TCP socket, for what real clients hide:
// it opens one gRPC server stream and then never grants flow-control credit (no WINDOW_UPDATE),
// like a peer that stopped reading. It records every frame the server sends on that stream.

import * as net from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an n-bit prefix (RFC 7541 5.1). */
function hpackInt(value: number, prefixBits: number, firstByteFlags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByteFlags | value];
  const out = [firstByteFlags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** Literal header fields without indexing, no Huffman: every server must decode these. */
function hpack(headers: [string, string][]): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of headers) {
    bytes.push(0x00, ...hpackInt(name.length, 7, 0), ...Buffer.from(name));
    bytes.push(...hpackInt(Buffer.byteLength(value), 7, 0), ...Buffer.from(value));
  }
  return Buffer.from(bytes);
}

export interface StalledStream {
  /** DATA payload bytes received on the stream so far. */
  dataBytes(): number;
  /** Frame types received on stream 1, in order. */
  frames(): { type: number; flags: number; length: number; errorCode?: number }[];
  /** Resolves with the RST_STREAM error code, or with "end" for END_STREAM / connection close. */
  ended: Promise<number | "end">;
  close(): void;
}

/** Opens `path` as a gRPC server-streaming call with the given protobuf request bytes. */
export function openStalledGrpcStream(port: number, path: string, request: Uint8Array = new Uint8Array()): Promise<StalledStream> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const received: { type: number; flags: number; length: number; errorCode?: number }[] = [];
    let data = 0;
    let buffer = Buffer.alloc(0);
    let finish!: (v: number | "end") => void;
    const ended = new Promise<number | "end">((r) => (finish = r));
    socket.on("error", reject);
    socket.on("close", () => finish("end"));
    socket.on("connect", () => {
      // INITIAL_WINDOW_SIZE stays at the default 65,535; ENABLE_PUSH off.
      const settings = Buffer.alloc(6);
      settings.writeUInt16BE(0x2, 0);
      settings.writeUInt32BE(0, 2);
      const grpcMessage = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), Buffer.from(request)]);
      grpcMessage.writeUInt32BE(request.length, 1);
      socket.write(
        Buffer.concat([
          PREFACE,
          frame(FRAME.SETTINGS, 0, 0, settings),
          frame(
            FRAME.HEADERS,
            0x4,
            1,
            hpack([
              [":method", "POST"],
              [":scheme", "http"],
              [":path", path],
              [":authority", `127.0.0.1:${port}`],
              ["content-type", "application/grpc+proto"],
              ["te", "trailers"],
            ]),
          ),
          frame(FRAME.DATA, 0x1, 1, grpcMessage),
        ]),
      );
      resolve({
        dataBytes: () => data,
        frames: () => received,
        ended,
        close: () => socket.destroy(),
      });
    });
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 9) {
        const length = buffer.readUIntBE(0, 3);
        if (buffer.length < 9 + length) break;
        const type = buffer[3]!;
        const flags = buffer[4]!;
        const stream = buffer.readUInt32BE(5) & 0x7fffffff;
        const payload = buffer.subarray(9, 9 + length);
        buffer = buffer.subarray(9 + length);
        if (type === FRAME.SETTINGS && !(flags & 0x1)) socket.write(frame(FRAME.SETTINGS, 0x1, 0, Buffer.alloc(0)));
        if (type === FRAME.PING && !(flags & 0x1)) socket.write(frame(FRAME.PING, 0x1, 0, Buffer.from(payload)));
        if (stream !== 1) continue;
        const entry: { type: number; flags: number; length: number; errorCode?: number } = { type, flags, length };
        if (type === FRAME.RST_STREAM) entry.errorCode = payload.readUInt32BE(0);
        received.push(entry);
        if (type === FRAME.DATA) data += length;
        if (type === FRAME.RST_STREAM) finish(entry.errorCode!);
        else if (flags & 0x1) finish("end");
      }
    });
  });
}
