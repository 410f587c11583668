// The one place where failures become gRPC status codes. Handlers throw whatever the layer
// below throws; this turns it into a ConnectError whose code a client can branch on and whose
// message a person can act on. Unexpected errors are logged with their stack here and reach
// the client only as a generic INTERNAL message. No message leaves with a stack trace or a
// host path outside the storage roots (libvirt and the OS name files freely in their errors).

import { posix } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { HypervisorError, type HypervisorErrorKind } from "../hypervisor/errors.ts";
import { EventBusError } from "../events/event-bus.ts";

const codeByKind: Record<HypervisorErrorKind, Code> = {
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  invalid_state: Code.FailedPrecondition,
  invalid_argument: Code.InvalidArgument,
  unavailable: Code.Unavailable,
  timeout: Code.DeadlineExceeded,
  resource_exhausted: Code.ResourceExhausted,
  // A feature the backend or its driver lacks is a precondition of this node, not a missing
  // RPC: the same call succeeds on a node whose hypervisor has it.
  unsupported: Code.FailedPrecondition,
  cancelled: Code.Canceled,
  internal: Code.Internal,
};

export const INTERNAL_MESSAGE = "internal error in the node daemon; see its log for details";
export const REDACTED_PATH = "<host path>";

export type ErrorReporter = (err: unknown) => void;

export interface ErrorPolicy {
  report?: ErrorReporter;
  /** Paths inside these may appear in messages; every other absolute path is redacted. */
  storageRoots?: readonly string[];
}

// An absolute path starts a message or follows a space, quote, bracket or '='; "qemu+tcp://h/x"
// (after ':') and "a-z / -" (a lone slash) are not paths.
const PATH_RE = /(^|[\s"'`([=])(\/[^\s"'`)\],;]+)/g;

function insideRoots(path: string, roots: readonly string[]): boolean {
  if (path.split("/").includes("..")) return false;
  const p = posix.normalize(path).replace(/[.:]+$/, "");
  return roots.some((r) => r !== "/" && (p === r || p.startsWith(`${r}/`)));
}

/** Removes stack frames (everything after the first line) and host paths outside the roots. */
export function sanitizeMessage(message: string, roots: readonly string[] = []): string {
  const firstLine = message.split("\n", 1)[0] ?? "";
  return firstLine.replace(PATH_RE, (whole, lead: string, path: string) => (insideRoots(path, roots) ? whole : `${lead}${REDACTED_PATH}`));
}

function sanitized(err: ConnectError, roots: readonly string[]): ConnectError {
  const message = sanitizeMessage(err.rawMessage, roots);
  if (message === err.rawMessage) return err;
  // Details are dropped with the message they belong to; the daemon sends none of its own.
  return new ConnectError(message, err.code, err.metadata);
}

export function toConnectError(err: unknown, policy: ErrorPolicy | ErrorReporter = {}): ConnectError {
  const { report, storageRoots = [] } = typeof policy === "function" ? { report: policy } : policy;
  if (err instanceof ConnectError) return sanitized(err, storageRoots);
  if (err instanceof HypervisorError) {
    if (err.kind === "internal") report?.(err);
    return sanitized(new ConnectError(err.message, codeByKind[err.kind]), storageRoots);
  }
  if (err instanceof EventBusError) {
    return new ConnectError(err.message, err.kind === "gone" ? Code.OutOfRange : Code.ResourceExhausted);
  }
  report?.(err);
  return new ConnectError(INTERNAL_MESSAGE, Code.Internal);
}

/** INVALID_ARGUMENT naming the field and the rule. */
export function invalidField(field: string, rule: string): ConnectError {
  return new ConnectError(`${field}: ${rule}`, Code.InvalidArgument);
}
