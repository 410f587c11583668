// The Connect client to the control plane. connect-go behind a plain Go http.Server speaks
// HTTP/1.1 only over cleartext (no h2c), and HTTP/2 through ALPN over TLS.
import { readFile } from "node:fs/promises";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { NodeService } from "../gen/limiquantix/compute/v1/node_service_pb.ts";
import { ImageService, StoragePoolService } from "../gen/limiquantix/storage/v1/storage_service_pb.ts";

export type Encoding = "binary" | "json";
export type HttpVersion = "1.1" | "2";

export interface ControlPlaneClientOptions {
  /** http:// or https:// URL of the control plane. */
  address: string;
  /** PEM file of the CA that signed the control plane's certificate (https only). */
  caFile?: string;
  encoding?: Encoding;
  /** Defaults to "1.1" for http:// and "2" for https://. */
  httpVersion?: HttpVersion;
}

export interface ControlPlaneClient {
  client: Client<typeof NodeService>;
  /** The control plane's storage API on the same transport (ScanLocalImages, GetPool). */
  images: Client<typeof ImageService>;
  pools: Client<typeof StoragePoolService>;
  httpVersion: HttpVersion;
  /** Ends the HTTP/2 session if one is open, so nothing keeps the process alive. */
  close(): void;
}

export function defaultHttpVersion(address: string): HttpVersion {
  return new URL(address).protocol === "https:" ? "2" : "1.1";
}

/** Throws on an address that is not an http(s) URL or a CA file that cannot be read. */
export async function createControlPlaneClient(options: ControlPlaneClientOptions): Promise<ControlPlaneClient> {
  const url = new URL(options.address);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`control plane address must be http:// or https://, got ${options.address}`);
  }
  const tls = url.protocol === "https:";
  if (!tls && options.caFile !== undefined) {
    throw new Error(`a CA file was given but the control plane address ${options.address} is not https://`);
  }
  const ca = options.caFile === undefined ? undefined : await readFile(options.caFile, "utf8");
  const useBinaryFormat = (options.encoding ?? "binary") === "binary";
  const baseUrl = options.address.replace(/\/+$/, "");
  const httpVersion = options.httpVersion ?? defaultHttpVersion(options.address);

  if (httpVersion === "2") {
    // Our own session manager, so close() can end the session instead of waiting for its idle timeout.
    const sessionManager = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 5 * 60_000 }, ca === undefined ? {} : { ca });
    const transport = createConnectTransport({ baseUrl, httpVersion, sessionManager, useBinaryFormat });
    return {
      client: createClient(NodeService, transport),
      images: createClient(ImageService, transport),
      pools: createClient(StoragePoolService, transport),
      httpVersion,
      close: () => sessionManager.abort(),
    };
  }
  const transport = createConnectTransport({
    baseUrl,
    httpVersion,
    useBinaryFormat,
    nodeOptions: ca === undefined ? {} : { ca },
  });
  // HTTP/1.1 requests hold no session beyond the global agent's keep-alive sockets, which do not
  // keep the process alive; every in-flight request is ended through its AbortSignal.
  return {
    client: createClient(NodeService, transport),
    images: createClient(ImageService, transport),
    pools: createClient(StoragePoolService, transport),
    httpVersion,
    close: () => {},
  };
}
