// The QTX1 framing of the guest agent channel (shared/node-daemon-contract.md, section 4.3): a
// pure encoder and an incremental decoder, no I/O. One frame is
//   "QTX" 0x01 | payload length, u32 big-endian | payload (one protobuf AgentMessage)
// The decoder resynchronises on the magic after garbage, partial writes and oversize frames,
// and gives up (the caller drops the connection) after more than 64 KiB discarded without a
// message.

export const MAGIC = new Uint8Array([0x51, 0x54, 0x58, 0x01]);
/** The magic read as a big-endian u32: a length field equal to it means a new frame started there. */
export const MAGIC_U32 = 0x51545801;
export const HEADER_BYTES = 8;
/** Largest payload a writer sends and a reader accepts: 16 MiB. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Bytes a reader may discard without producing a message before it gives up. */
export const RESYNC_BUDGET_BYTES = 64 * 1024;

export class FrameError extends Error {
  override readonly name = "FrameError";
}

/** One frame holding `payload`; refuses payloads over 16 MiB. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new FrameError(`agent message of ${payload.length} bytes is over the ${MAX_PAYLOAD_BYTES}-byte frame limit`);
  }
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  frame.set(MAGIC, 0);
  new DataView(frame.buffer).setUint32(4, payload.length, false);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export interface FrameDecoderOptions<T> {
  /** Turns a payload into a message; undefined (or a throw) discards the frame as garbage. */
  parse: (payload: Uint8Array) => T | undefined;
  maxPayloadBytes?: number;
  resyncBudgetBytes?: number;
}

export interface FrameDecoder<T> {
  /** Feeds bytes; returns the messages they completed. Throws FrameError when the budget is spent. */
  push(chunk: Uint8Array): T[];
  /** Bytes held waiting for the rest of a frame. */
  buffered(): number;
  /** Bytes discarded since the last good message. */
  discarded(): number;
}

/** Index of the first full magic at or after `from`, or of a magic prefix that ends the data; -1 if neither. */
function findMagic(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    if (buf[i] !== 0x51) continue;
    let k = 1;
    while (k < 4 && i + k < end && buf[i + k] === MAGIC[k]) k++;
    if (k === 4 || i + k === end) return i;
  }
  return -1;
}

export function createFrameDecoder<T>(opts: FrameDecoderOptions<T>): FrameDecoder<T> {
  const maxPayload = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const budget = opts.resyncBudgetBytes ?? RESYNC_BUDGET_BYTES;
  let buf = new Uint8Array(0);
  let start = 0;
  let end = 0;
  let lost = 0;

  function append(chunk: Uint8Array) {
    if (end + chunk.length > buf.length) {
      const held = end - start;
      if (held + chunk.length <= buf.length) {
        buf.copyWithin(0, start, end);
      } else {
        const next = new Uint8Array(Math.max(held + chunk.length, buf.length * 2, 4096));
        next.set(buf.subarray(start, end), 0);
        buf = next;
      }
      start = 0;
      end = held;
    }
    buf.set(chunk, end);
    end += chunk.length;
  }

  function discard(n: number) {
    start += n;
    lost += n;
    if (lost > budget) throw new FrameError(`no agent message in the last ${lost} bytes: the channel is out of step (over the ${budget}-byte resync budget)`);
  }

  function parse(payload: Uint8Array): T | undefined {
    try {
      return opts.parse(payload);
    } catch {
      return undefined;
    }
  }

  return {
    push(chunk) {
      append(chunk);
      const out: T[] = [];
      for (;;) {
        const at = findMagic(buf, start, end);
        if (at < 0) {
          discard(end - start);
          break;
        }
        if (at > start) discard(at - start);
        if (end - start < HEADER_BYTES) break;
        const len = new DataView(buf.buffer, buf.byteOffset + start + 4, 4).getUint32(0, false);
        if (len === MAGIC_U32) {
          // A frame whose header was cut short by a partial write: a new one starts at +4.
          discard(4);
          continue;
        }
        if (len === 0 || len > maxPayload) {
          discard(HEADER_BYTES);
          continue;
        }
        if (end - start < HEADER_BYTES + len) break;
        // A copy: the buffer is reused for the bytes that follow.
        const payload = buf.slice(start + HEADER_BYTES, start + HEADER_BYTES + len);
        const message = parse(payload);
        if (message === undefined) {
          discard(HEADER_BYTES + len);
          continue;
        }
        start += HEADER_BYTES + len;
        lost = 0;
        out.push(message);
      }
      if (start === end) start = end = 0;
      return out;
    },
    buffered: () => end - start,
    discarded: () => lost,
  };
}
