// The calls a control plane may not implement (the one at HEAD answers SyncFullState and
// NotifyVMChange with Connect "unimplemented"). What a failure means for the next call, and how
// loudly it is logged, is decided here for all of them.
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "../common/logger.ts";
import { reason } from "./reason.ts";

export type OptionalRpc = "SyncNodeVMs" | "SyncFullState" | "NotifyVMChange";

/**
 * unsupported: do not call again until the next registration. retry: the control plane is
 * unreachable or overloaded, the same request may succeed later. drop: this request was refused.
 */
export type Failure = "unsupported" | "retry" | "drop";

/** Pure. A 404 arrives as Unimplemented too (Connect's HTTP mapping): no such route is no such call. */
export function classifyFailure(err: unknown): Failure {
  if (!(err instanceof ConnectError)) return "drop";
  switch (err.code) {
    case Code.Unimplemented:
      return "unsupported";
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.ResourceExhausted:
    case Code.Aborted:
    case Code.Internal:
    // An HTTP 5xx without a Connect error body (a proxy, a crashing server).
    case Code.Unknown:
      return "retry";
    default:
      return "drop";
  }
}

export interface OptionalRpcs {
  supported(rpc: OptionalRpc): boolean;
  /** After a successful registration: the control plane may have been upgraded, try everything again. */
  reset(): void;
  /** Logs the failure (unsupported at info once per RPC, others at most once per window) and classifies it. */
  failed(rpc: OptionalRpc, err: unknown): Failure;
}

export function createOptionalRpcs(log: Logger, now: () => Date, warnEveryMs = 60_000): OptionalRpcs {
  const unsupported = new Set<OptionalRpc>();
  const announced = new Set<OptionalRpc>();
  const lastWarnAt = new Map<OptionalRpc, number>();
  const suppressed = new Map<OptionalRpc, number>();

  return {
    supported: (rpc) => !unsupported.has(rpc),
    reset() {
      unsupported.clear();
    },
    failed(rpc, err) {
      const kind = classifyFailure(err);
      if (kind === "unsupported") {
        unsupported.add(rpc);
        const line = `the control plane does not support ${rpc} (${reason(err)}); not calling it again until the next registration`;
        if (announced.has(rpc)) {
          log.debug(line);
        } else {
          announced.add(rpc);
          log.info(line);
        }
        return kind;
      }
      const t = now().getTime();
      const last = lastWarnAt.get(rpc);
      if (last !== undefined && t - last < warnEveryMs) {
        suppressed.set(rpc, (suppressed.get(rpc) ?? 0) + 1);
        log.debug(`${rpc} failed: ${reason(err)}`);
        return kind;
      }
      const skipped = suppressed.get(rpc) ?? 0;
      const more = skipped > 0 ? ` (${skipped} more failures since the last report)` : "";
      log.warn(`${rpc} failed: ${reason(err)}${more}`);
      lastWarnAt.set(rpc, t);
      suppressed.set(rpc, 0);
      return kind;
    },
  };
}
