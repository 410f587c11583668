// How a client command ends: 0 on success, 1 when the daemon said no (its gRPC code and message
// on stderr) or cannot be reached, 2 on bad usage. Every client command runs through
// runClient, so all of them report failures the same way.

import { Code, ConnectError } from "@connectrpc/connect";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "../usage-error.ts";
import type { ConnectionFlags } from "./client-args.ts";
import { connect, type Connection, type DaemonTarget, DEFAULT_METRICS_PORT, DEFAULT_PORT } from "./connection.ts";

/** A failure the command decided on itself (ambiguous name, unhealthy daemon, ...). */
export class CliFailure extends Error {
  override readonly name = "CliFailure";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/** "NotFound" -> "not_found", the spelling of the API's error kinds. */
export const codeName = (code: Code): string => (Code[code] ?? "unknown").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
};

function causeCode(err: ConnectError): string | undefined {
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === "string") return code;
    cause = cause.cause;
  }
  return undefined;
}

const TLS_CODE_RE = /^ERR_(SSL|TLS)_|CERT|SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/;

export interface Unreachable {
  reason: string;
  /** Nothing answered at all (as opposed to a daemon that refused the handshake). */
  nobodyThere: boolean;
  /** Something answered, but not the node API (another protocol on that port). */
  notTheApi?: boolean;
}

/** Whether the daemon could not be reached at all (as opposed to answering with an error). */
export function unreachable(err: unknown, target: DaemonTarget): Unreachable | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const code = causeCode(err);
  // A failed handshake surfaces as INTERNAL, whatever went wrong in it.
  if (code === "ERR_SSL_TLSV1_ALERT_CERTIFICATE_REQUIRED") {
    return { reason: "TLS: the daemon requires a client certificate (--cert and --key)", nobodyThere: false };
  }
  if (code !== undefined && TLS_CODE_RE.test(code)) {
    const hint = /SELF_SIGNED|UNABLE_TO/.test(code) ? " (pass the CA that signed the daemon's certificate with --ca)" : "";
    return { reason: `TLS: ${err.rawMessage}${hint}`, nobodyThere: false };
  }
  // Something answered, but not in HTTP/2: an HTTP/1.1 server (the Prometheus endpoint), SSH, ...
  if (code === "ERR_HTTP2_ERROR" || code === "ERR_HTTP2_SESSION_ERROR") {
    return {
      reason:
        `it does not speak gRPC over HTTP/2 (the Prometheus endpoint, port ${DEFAULT_METRICS_PORT} by default, is such an address); ` +
        `the API listens on port ${DEFAULT_PORT} unless server.listen_address says otherwise`,
      nobodyThere: false,
      notTheApi: true,
    };
  }
  if (err.code === Code.Canceled && !target.tls && /stream closed with error code/.test(err.rawMessage)) {
    return { reason: `the connection was closed during the call (${err.rawMessage}); if the daemon serves TLS, add --tls and --ca`, nobodyThere: false };
  }
  if (err.code !== Code.Unavailable || code === undefined) return undefined;
  return { reason: NETWORK_REASONS[code] ?? err.rawMessage, nobodyThere: true };
}

export const daemonDownMessage = (target: DaemonTarget, u: Unreachable) =>
  u.notTheApi
    ? `${target.display} answers, but it is not the node API: ${u.reason}`
    : `cannot reach the daemon at ${target.display}: ${u.reason}${u.nobodyThere ? " — is limiquantix-node running?" : ""}`;

/** The message and exit code for any failure a client command can meet. */
export function describeFailure(err: unknown, target: DaemonTarget | undefined): { message: string; exitCode: number } {
  if (err instanceof UsageError) return { message: err.message, exitCode: EXIT_USAGE };
  if (err instanceof CliFailure) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof ConnectError) {
    const down = target ? unreachable(err, target) : undefined;
    if (down && target) return { message: daemonDownMessage(target, down), exitCode: EXIT_FAILURE };
    return { message: `${codeName(err.code)}: ${err.rawMessage}`, exitCode: EXIT_FAILURE };
  }
  if (err instanceof HypervisorError) return { message: `${err.kind}: ${err.message}`, exitCode: EXIT_FAILURE };
  return { message: err instanceof Error ? err.message : String(err), exitCode: EXIT_FAILURE };
}

/** Waits until what was written to a stream has left the process (pipes may be asynchronous). */
const drained = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write("", () => resolve()));

/** Ends the process with this code once stdout and stderr are flushed. */
export async function exitWith(code: number): Promise<never> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

export interface ClientContext {
  conn: Connection;
  out(text: string): void;
  err(text: string): void;
}

/**
 * Connects, runs the command, and exits with its code (the command's return value, 0 when it
 * returns nothing). The process exits here: a client must not linger on an idle HTTP/2 session.
 */
export async function runClient(flags: ConnectionFlags, body: (ctx: ClientContext) => Promise<number | undefined>): Promise<never> {
  let conn: Connection | undefined;
  let code: number;
  try {
    conn = connect(flags);
    const ctx: ClientContext = {
      conn,
      out: (text) => process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`),
      err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    };
    code = (await body(ctx)) ?? EXIT_OK;
  } catch (err) {
    const { message, exitCode } = describeFailure(err, conn?.target);
    process.stderr.write(`error: ${message}\n`);
    code = exitCode;
  }
  conn?.close();
  return exitWith(code);
}
