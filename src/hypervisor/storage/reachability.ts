// Whether a pool's server answers, asked before libvirt is: a mount of an NFS server that is down
// retries for minutes, an iSCSI login or a Ceph connection waits as long, and every such wait
// holds a libvirt worker. A TCP connection to any one of the endpoints, within a deadline,
// is enough to go on; none answering is "unavailable" with each endpoint's reason.

import { connect } from "node:net";
import { HypervisorError } from "../errors.ts";
import type { HostPort } from "../types.ts";

export type Connector = (ep: HostPort, timeoutMs: number) => Promise<void>;

export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/** A TCP connect that resolves once connected (then closes) and rejects with the reason. */
export const tcpConnect: Connector = (ep, timeoutMs) =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: ep.host, port: ep.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(err.code === "ECONNREFUSED" ? "connection refused" : (err.code ?? err.message)));
    });
  });

const label = (ep: HostPort) => (ep.host.includes(":") ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`);

/** Resolves when one endpoint accepts a connection; otherwise unavailable naming each one's reason. */
export async function requireReachable(
  what: string,
  endpoints: readonly HostPort[],
  opts: { timeoutMs?: number; connect?: Connector; field?: string } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const dial = opts.connect ?? tcpConnect;
  const results = await Promise.allSettled(endpoints.map((ep) => dial(ep, timeoutMs)));
  if (results.some((r) => r.status === "fulfilled")) return;
  const reasons = results.map((r, i) => `${label(endpoints[i]!)}: ${(r as PromiseRejectedResult).reason?.message ?? "unreachable"}`);
  throw new HypervisorError(
    "unavailable",
    `${what}${endpoints.length > 1 ? "s" : ""} not reachable from this node (${reasons.join("; ")}); check the address, the service and the network`,
    opts.field,
  );
}

/**
 * The promise, or "unavailable" after ms (the work itself goes on: a libvirt call cannot be
 * interrupted; its worker is busy until libvirt returns, the caller is not kept waiting).
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new HypervisorError("unavailable", `${what} did not finish within ${Math.round(ms / 1000)} s; it goes on in the background, ask again later`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
    // A result that arrives after the deadline is dropped, its error too.
    promise.catch(() => {});
  }
}
