// Where the daemon is and how to talk to it: gRPC over HTTP/2, cleartext (h2c, what the daemon
// serves by default) or TLS with the same CA / client certificate the server's mTLS expects.

import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { readFileSync } from "node:fs";
import { NodeDaemonService } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../usage-error.ts";
import { type ConnectionFlags, DEFAULT_ADDR } from "./client-args.ts";

export type DaemonClient = Client<typeof NodeDaemonService>;

export interface DaemonTarget {
  baseUrl: string;
  /** host:port as an operator writes it, for messages. */
  display: string;
  host: string;
  tls: boolean;
}

/** The daemon's default API port (server.listen_address) and Prometheus port (server.metrics_port). */
export const DEFAULT_PORT = "9090";
export const DEFAULT_METRICS_PORT = "9091";

/** host:port, [v6]:port, host, or http(s)://host:port. */
export function parseAddress(addr: string, forceTls = false): DaemonTarget {
  const text = addr.trim();
  if (text === "") throw new UsageError("--addr is empty; give host:port, e.g. 127.0.0.1:9090");
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  let url: URL;
  try {
    url = new URL(hasScheme ? text : `http://${text}`);
  } catch {
    throw new UsageError(`--addr ${JSON.stringify(addr)} is not host:port or a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--addr ${JSON.stringify(addr)}: the scheme must be http or https`);
  }
  if (url.pathname !== "/" || url.search !== "" || url.username !== "") {
    throw new UsageError(`--addr ${JSON.stringify(addr)}: give only a host and port`);
  }
  const tls = forceTls || url.protocol === "https:";
  const port = url.port || (hasScheme ? (url.protocol === "https:" ? "443" : "80") : DEFAULT_PORT);
  const host = url.hostname;
  const display = `${host}:${port}`;
  return { baseUrl: `${tls ? "https" : "http"}://${host}:${port}`, display, host: host.replace(/^\[|\]$/g, ""), tls };
}

function readPem(path: string | undefined, flag: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
}

export interface Connection {
  target: DaemonTarget;
  client: DaemonClient;
  /** Drops the HTTP/2 connection so the process can exit. */
  close(): void;
}

export function connect(flags: ConnectionFlags): Connection {
  const tlsFiles = flags.ca !== undefined || flags.cert !== undefined || flags.key !== undefined;
  const target = parseAddress(flags.addr ?? DEFAULT_ADDR, flags.tls === true);
  if (tlsFiles && !target.tls) throw new UsageError("--ca, --cert and --key need --tls or an https:// address");
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new UsageError("--cert and --key go together");
  const ca = readPem(flags.ca, "ca");
  const cert = readPem(flags.cert, "cert");
  const key = readPem(flags.key, "key");
  const nodeOptions = target.tls ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : {};
  const sessionManager = new Http2SessionManager(target.baseUrl, {}, nodeOptions);
  const transport = createGrpcTransport({ baseUrl: target.baseUrl, sessionManager });
  return { target, client: createClient(NodeDaemonService, transport), close: () => sessionManager.abort() };
}
