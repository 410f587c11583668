// A minimal gRPC server-streaming client on node:http2 that only splits the response into
// messages and counts them: decoding every message with protobuf-es would make this client,
// not the daemon, the bottleneck of a fan-out benchmark. The last message is kept so the
// caller can decode it and check it is the one it expected.

import * as http2 from "node:http2";
import { grpcFrame } from "./grpc-body.ts";

export interface StreamCounter {
  readonly count: number;
  readonly last: Uint8Array | undefined;
  /** grpc-status from the trailers once the stream ended; undefined while it runs. */
  readonly status: string | undefined;
  /** Resolves when count reaches n (or rejects when the stream ends first). */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  close(): void;
}

export function openStream(baseUrl: string, path: string, request: Uint8Array): StreamCounter {
  const session = http2.connect(baseUrl);
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.end(grpcFrame(request));
  let count = 0;
  let last: Uint8Array | undefined;
  let status: string | undefined;
  let pending: Buffer = Buffer.alloc(0);
  let waiter: { n: number; resolve: () => void; reject: (e: Error) => void } | undefined;
  const check = () => {
    if (waiter && count >= waiter.n) {
      waiter.resolve();
      waiter = undefined;
    } else if (waiter && status !== undefined) {
      waiter.reject(new Error(`stream ended with grpc-status ${status} after ${count} messages`));
      waiter = undefined;
    }
  };
  stream.on("data", (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    while (pending.length - offset >= 5) {
      const size = pending.readUInt32BE(offset + 1);
      if (pending.length - offset < 5 + size) break;
      last = pending.subarray(offset + 5, offset + 5 + size);
      offset += 5 + size;
      count++;
    }
    pending = pending.subarray(offset);
    check();
  });
  stream.on("trailers", (t) => {
    status = String(t["grpc-status"] ?? "missing");
    check();
  });
  stream.on("response", (h) => {
    if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
  });
  stream.on("close", () => {
    status ??= "closed";
    check();
  });
  stream.on("error", () => {});
  return {
    get count() {
      return count;
    },
    get last() {
      return last;
    },
    get status() {
      return status;
    },
    waitFor(n, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${count} of ${n} messages within ${timeoutMs} ms`)), timeoutMs);
        waiter = {
          n,
          resolve: () => (clearTimeout(timer), resolve()),
          reject: (e) => (clearTimeout(timer), reject(e)),
        };
        check();
      });
    },
    close() {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    },
  };
}
