// Unary gRPC calls with bytes chosen by the test, as grpc-go puts them on the wire: h2c with prior
// knowledge, POST /<service>/<method>, content-type application/grpc, te: trailers, one
// length-prefixed message. No protobuf library touches the request, so the control plane's own
// encodings (test/fixtures/cp-wire/vectors.json) reach the daemon byte for byte.

import * as http2 from "node:http2";

export interface RawGrpcReply {
  /** grpc-status from the trailers (or headers, for a trailers-only answer). */
  status: number;
  message: string;
  /** The reply message's bytes (empty for an error). */
  body: Uint8Array;
}

export function grpcFrame(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** The one message of a unary reply; throws on a compressed or truncated frame. */
export function unframe(data: Uint8Array): Uint8Array {
  if (data.length === 0) return data;
  if (data.length < 5) throw new Error(`gRPC reply of ${data.length} bytes is shorter than a frame header`);
  if (data[0] !== 0) throw new Error(`gRPC reply frame flag ${data[0]}: compressed or trailer frames are not expected`);
  const len = new DataView(data.buffer, data.byteOffset).getUint32(1);
  if (data.length !== 5 + len) throw new Error(`gRPC reply frame says ${len} bytes, carries ${data.length - 5}`);
  return data.subarray(5);
}

export interface RawGrpcClient {
  call(method: string, request: Uint8Array, opts?: { timeoutMs?: number; service?: string }): Promise<RawGrpcReply>;
  close(): void;
}

export function rawGrpcClient(baseUrl: string, defaultService = "limiquantix.node.v1.NodeDaemonService"): RawGrpcClient {
  const session = http2.connect(baseUrl);
  session.on("error", () => {});
  return {
    call(method, request, opts = {}) {
      return new Promise((resolve, reject) => {
        const stream = session.request({
          ":method": "POST",
          ":path": `/${opts.service ?? defaultService}/${method}`,
          "content-type": "application/grpc",
          te: "trailers",
        });
        const chunks: Buffer[] = [];
        let headers: http2.IncomingHttpHeaders = {};
        const timer = setTimeout(() => {
          stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(new Error(`${method}: no answer within ${opts.timeoutMs ?? 60_000} ms`));
        }, opts.timeoutMs ?? 60_000);
        stream.on("response", (h) => (headers = h));
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("error", (err) => {
          clearTimeout(timer);
          reject(err);
        });
        stream.on("trailers", (trailers) => (headers = { ...headers, ...trailers }));
        stream.on("end", () => {
          clearTimeout(timer);
          const status = Number(headers["grpc-status"] ?? -1);
          const message = decodeURIComponent(String(headers["grpc-message"] ?? ""));
          try {
            resolve({ status, message, body: status === 0 ? unframe(new Uint8Array(Buffer.concat(chunks))) : new Uint8Array() });
          } catch (err) {
            reject(err);
          }
        });
        stream.end(grpcFrame(request));
      });
    },
    close: () => session.close(),
  };
}
