// A small RFB client for tests, over any byte transport (a TCP socket, a WebSocket): the 3.8
// handshake with security None, then update requests and the raw-encoded updates that answer
// them. Reads wait on a bounded deadline and name what they were waiting for.

import {
  encodeUpdateRequest,
  parseFramebufferUpdate,
  parseProtocolVersion,
  parseServerInit,
  RFB_VERSION_3_8,
  type RawRect,
  type ServerInit,
} from "../../src/rfb/messages.ts";

export interface ByteLink {
  send(bytes: Uint8Array): void;
  close(): void;
  /** Resolves when the far side closed. */
  closed: Promise<void>;
}

export interface ByteQueue {
  push(bytes: Uint8Array): void;
  end(): void;
  /** Waits until `parse` accepts the bytes at the head, then drops what it used. */
  read<T>(what: string, parse: (b: Uint8Array) => { value: T; length: number } | undefined, timeoutMs?: number): Promise<T>;
}

export function createByteQueue(): ByteQueue {
  let buf = new Uint8Array(0);
  let ended = false;
  let wake: (() => void) | undefined;
  return {
    push(bytes) {
      buf = Buffer.concat([buf, bytes]);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async read(what, parse, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const got = parse(buf);
        if (got) {
          buf = buf.slice(got.length);
          return got.value;
        }
        if (ended) throw new Error(`the connection closed while waiting for ${what} (${buf.length} bytes unread)`);
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms (${buf.length} bytes unread)`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            wake = undefined;
            resolve();
          };
        });
      }
    },
  };
}

export interface RfbClient {
  serverVersion: string;
  init: ServerInit;
  /** Asks for an update and returns the next one (raw encoding, the server's 32 bpp format). */
  update(incremental: boolean): Promise<RawRect[]>;
  close(): void;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
}

const bytes = (n: number) => (b: Uint8Array) => (b.length >= n ? { value: b.slice(0, n), length: n } : undefined);

/** Runs the handshake on `link`, whose received bytes arrive in `queue`. */
export async function rfbHandshake(link: ByteLink, queue: ByteQueue): Promise<RfbClient> {
  const version = await queue.read("the server's protocol version", bytes(12));
  parseProtocolVersion(version);
  link.send(new TextEncoder().encode(RFB_VERSION_3_8));
  const count = (await queue.read("the number of security types", bytes(1)))[0] ?? 0;
  if (count === 0) throw new Error("the server refused the connection (no security types)");
  const types = [...(await queue.read("the security types", bytes(count)))];
  if (!types.includes(1)) throw new Error(`the server offers security types ${types.join(", ")}, not None (1)`);
  link.send(Uint8Array.of(1));
  const result = await queue.read("the security result", bytes(4));
  if (result.some((x) => x !== 0)) throw new Error("the server refused security type None");
  link.send(Uint8Array.of(1)); // ClientInit, shared
  const init = await queue.read("ServerInit", (b) => {
    const p = parseServerInit(b);
    return p ? { value: p.init, length: p.length } : undefined;
  });
  const bpp = init.pixelFormat.bitsPerPixel / 8;
  return {
    serverVersion: new TextDecoder().decode(version),
    init,
    async update(incremental) {
      link.send(encodeUpdateRequest({ incremental, x: 0, y: 0, width: init.width, height: init.height }));
      return queue.read("a FramebufferUpdate", (b) => {
        const p = parseFramebufferUpdate(b, bpp);
        return p ? { value: p.rects, length: p.length } : undefined;
      });
    },
    close: () => link.close(),
    closed: link.closed,
  };
}

/** An RFB client over a plain TCP connection. */
export async function rfbOverTcp(host: string, port: number): Promise<RfbClient> {
  const queue = createByteQueue();
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => (closedResolve = r));
  const socket = await Bun.connect({
    hostname: host,
    port,
    socket: {
      data: (_s, b) => queue.push(b),
      close: () => (queue.end(), closedResolve()),
      error: () => (queue.end(), closedResolve()),
    },
  });
  return rfbHandshake({ send: (b) => void socket.write(b), close: () => socket.end(), closed }, queue);
}
