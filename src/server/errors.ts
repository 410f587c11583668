// The one place where failures become gRPC status codes. Handlers throw whatever the layer
// below throws; this turns it into a ConnectError whose code a client can branch on and whose
// message a person can act on. Unexpected errors are logged with their stack here and reach
// the client only as a generic INTERNAL message (no stack traces, no host paths).

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

export function codeForKind(kind: HypervisorErrorKind): Code {
  return codeByKind[kind];
}

export type ErrorReporter = (err: unknown) => void;

export function toConnectError(err: unknown, report?: ErrorReporter): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof HypervisorError) {
    if (err.kind === "internal") report?.(err);
    return new ConnectError(err.message, codeByKind[err.kind]);
  }
  if (err instanceof EventBusError) {
    return new ConnectError(err.message, err.kind === "gone" ? Code.OutOfRange : Code.ResourceExhausted);
  }
  report?.(err);
  return new ConnectError("internal error in the node daemon; see its log for details", Code.Internal);
}

/** INVALID_ARGUMENT naming the field and the rule. */
export function invalidField(field: string, rule: string): ConnectError {
  return new ConnectError(`${field}: ${rule}`, Code.InvalidArgument);
}
