// What the transport knows about the caller, handed to every handler through Connect's context
// values: whether the call came over TLS, which client certificate the handshake verified
// (mutual TLS), and a way to cut the call off at the transport when the client stopped reading
// (a stream blocked on HTTP/2 flow control cannot deliver a status any more).

import type * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import type { TLSSocket } from "node:tls";
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";

type NodeServerRequest = http.IncomingMessage | http2.Http2ServerRequest;
/** All this module needs of a response (connect-node's response type is not exported). */
type NodeServerResponse = Pick<NodeJS.EventEmitter, "listenerCount" | "emit" | "once">;

const responses = new WeakMap<object, NodeServerResponse>();

/**
 * Bun (1.4.5) never settles a write that waits for flow-control credit when its stream closes
 * (reset by us or by the peer): no callback, no 'error', no 'drain'; and a socket we destroy
 * fails it as ERR_SOCKET_CLOSED, which Connect logs as a handler failure. Connect's writer
 * waits on that write, so the handler behind it would never finish. Fail it the way Node does
 * (ERR_STREAM_DESTROYED: Connect reads "the client hung up" and stays quiet). Only a pending
 * Connect write listens for 'drain' and 'error' on the response, so nothing else is disturbed.
 */
function failPendingWrite(res: NodeServerResponse): void {
  // (Bun also reports writableFinished at that point, so the listeners are the only tell.)
  if (res.listenerCount("drain") === 0 || res.listenerCount("error") === 0) return;
  res.emit("error", Object.assign(new Error("the stream closed while a write was pending"), { code: "ERR_STREAM_DESTROYED" }));
}

/** The listener registers every response, so a call can be ended cleanly at the transport. */
export function trackResponse(req: NodeServerRequest, res: NodeServerResponse): void {
  responses.set(req, res);
  res.once("close", () => failPendingWrite(res));
}

export interface PeerCertificate {
  subjectCn: string;
  issuerCn: string;
  serialNumber: string;
  /** SHA-256 fingerprint, colon-separated hex as Node prints it. */
  fingerprint256: string;
}

export interface Peer {
  address: string;
  tls: boolean;
  /** Set when the client presented a certificate the configured client CA verified. */
  certificate?: PeerCertificate;
  httpVersion: string;
  /**
   * Ends the call at the transport: RST_STREAM ENHANCE_YOUR_CALM on HTTP/2 (gRPC clients read
   * it as RESOURCE_EXHAUSTED), a TCP reset of the connection on HTTP/1.1.
   */
  cutOff(): void;
}

export const peerKey = createContextKey<Peer | undefined>(undefined, { description: "transport peer" });

function certificateOf(socket: TLSSocket): PeerCertificate | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = (v: unknown) => (typeof v === "string" ? v : Array.isArray(v) ? String(v[0] ?? "") : "");
  return {
    subjectCn: cn(cert.subject?.CN),
    issuerCn: cn(cert.issuer?.CN),
    serialNumber: cert.serialNumber ?? "",
    fingerprint256: cert.fingerprint256 ?? "",
  };
}

// Parsing a certificate per call is wasted work: one connection has one peer.
const certificates = new WeakMap<object, PeerCertificate | null>();

export function peerOf(req: NodeServerRequest): Peer {
  const socket = req.socket as Partial<TLSSocket> & { remoteAddress?: string };
  const isTls = typeof socket.getPeerCertificate === "function";
  const stream = "stream" in req ? req.stream : undefined;
  const connection: object = stream?.session ?? req.socket;
  let certificate = certificates.get(connection);
  if (certificate === undefined) {
    certificate = (isTls ? certificateOf(socket as TLSSocket) : undefined) ?? null;
    certificates.set(connection, certificate);
  }
  return {
    address: socket.remoteAddress ?? "",
    tls: isTls,
    ...(certificate ? { certificate } : {}),
    httpVersion: req.httpVersion,
    cutOff() {
      const res = responses.get(req);
      if (res) failPendingWrite(res);
      if (stream) {
        if (!stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
      } else {
        // A reset, not a FIN: a client that stopped reading would never drain a graceful close.
        (req.socket as net.Socket).resetAndDestroy();
      }
    },
  };
}

export function peerContextValues(req: NodeServerRequest): ContextValues {
  return createContextValues().set(peerKey, peerOf(req));
}
