// The one error type every backend throws. The kind says what went wrong in terms a caller can
// act on; server/errors.ts maps kinds to gRPC codes in exactly one place.

export type HypervisorErrorKind =
  | "not_found"
  | "already_exists"
  | "invalid_state"
  | "invalid_argument"
  | "unavailable"
  | "timeout"
  | "resource_exhausted"
  | "unsupported"
  | "cancelled"
  | "internal";

export class HypervisorError extends Error {
  override readonly name = "HypervisorError";

  constructor(
    readonly kind: HypervisorErrorKind,
    message: string,
    /** For invalid_argument: the field at fault, e.g. "spec.disks[0].path". */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isHypervisorError(err: unknown): err is HypervisorError {
  return err instanceof HypervisorError;
}

/**
 * "VM not found" leads the text: the control plane matches that substring (and "not found") in
 * StopVM, ForceStopVM and GetVMStatus errors to learn that the VM is gone from this node.
 */
export const notFound = (vmId: string) => new HypervisorError("not_found", `VM not found: ${vmId} is not defined on this node`);

export const invalidArgument = (field: string, rule: string) => new HypervisorError("invalid_argument", `${field}: ${rule}`, field);
