// What the transport knows about the caller, handed to every handler through Connect's context
// values: whether the call came over TLS, which client certificate the handshake verified
// (mutual TLS), and a way to cut the call off at the transport when the client stopped reading
// (a stream blocked on HTTP/2 flow control cannot deliver a status any more).

import { constants as h2 } from "node:http2";
import type { TLSSocket } from "node:tls";
import { createContextKey, createContextValues, type ContextValues } from "@connectrpc/connect";
import type * as http from "node:http";
import type * as http2 from "node:http2";

type NodeServerRequest = http.IncomingMessage | http2.Http2ServerRequest;

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
   * it as RESOURCE_EXHAUSTED), closing the connection on HTTP/1.1.
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
      if (stream) {
        if (!stream.closed && !stream.destroyed) stream.close(h2.NGHTTP2_ENHANCE_YOUR_CALM);
      } else {
        req.socket.destroy();
      }
    },
  };
}

export function peerContextValues(req: NodeServerRequest): ContextValues {
  return createContextValues().set(peerKey, peerOf(req));
}
