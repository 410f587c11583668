// Retry delays, one helper for every retry loop: the registrar (an unreachable control plane),
// the libvirt Workers (a libvirtd that went away) and `events --follow` (a daemon restarting).
// Exponential from initialMs, capped at maxMs; jitter, where many clients retry at once (a
// fleet of nodes that lost the control plane at the same moment), keeps them from coming back
// at the same moment.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * "equal" keeps at least half the exponential step (never a near-zero retry that hammers a
 * struggling server); "full" spreads over the whole step (AWS architecture blog, 2015).
 */
export type Jitter = "equal" | "full";

/** The ceiling for a given attempt (0-based) before jitter: initialMs * 2^attempt, capped. */
export function backoffCeiling(attempt: number, options: BackoffOptions): number {
  const n = Math.max(0, Math.floor(attempt));
  // 2^n overflows to Infinity for large n; min() still caps it.
  return Math.min(options.maxMs, options.initialMs * 2 ** n);
}

/** Milliseconds to wait before retry number `attempt` (0 for the first retry), with jitter. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number, jitter: Jitter = "equal"): number {
  const ceiling = backoffCeiling(attempt, options);
  // Clamp a misbehaving random source into [0, 1] so the delay stays within its bounds.
  const r = Math.min(1, Math.max(0, random()));
  const delay = jitter === "full" ? ceiling * r : ceiling / 2 + (ceiling / 2) * r;
  return Math.round(delay);
}
