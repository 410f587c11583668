// Failed logins per source address: after host-wide MAX_FAILURES wrong passwords within the
// window, the address waits (429 with Retry-After), 30 s after the fifth failure and doubling
// with each further one up to 15 min. Attempts still being checked count as failures until PAM
// answers, so a burst of parallel guesses gets no more tries than a sequence would. A
// successful login clears the address. In memory, like the sessions.

import { backoffCeiling } from "../../common/backoff.ts";

export interface LoginLimiterOptions {
  maxFailures?: number;
  windowMs?: number;
  lockout?: { initialMs: number; maxMs: number };
  /** Addresses remembered at most (the oldest entry is forgotten beyond it). */
  maxAddresses?: number;
  now?: () => number;
}

export type LoginAttempt = { ok: true; finish(result: "success" | "failure" | "neutral"): void } | { ok: false; retryAfterSeconds: number };

export interface LoginLimiter {
  begin(address: string): LoginAttempt;
}

interface Entry {
  failures: number[];
  pending: number;
  lockedUntilMs: number;
}

export function createLoginLimiter(opts: LoginLimiterOptions = {}): LoginLimiter {
  const max = opts.maxFailures ?? 5;
  const windowMs = opts.windowMs ?? 15 * 60_000;
  const lockout = opts.lockout ?? { initialMs: 30_000, maxMs: 15 * 60_000 };
  const maxAddresses = opts.maxAddresses ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();

  return {
    begin(address) {
      const t = now();
      let entry = entries.get(address);
      if (entry) entry.failures = entry.failures.filter((f) => f > t - windowMs);
      if (entry && entry.lockedUntilMs > t) return { ok: false, retryAfterSeconds: Math.ceil((entry.lockedUntilMs - t) / 1000) };
      // Lockout over but failures still in the window: one attempt at a time (each failure locks again).
      if (entry && entry.failures.length + entry.pending >= max && entry.pending > 0) return { ok: false, retryAfterSeconds: 5 };
      if (!entry) {
        if (entries.size >= maxAddresses) entries.delete(entries.keys().next().value as string);
        entry = { failures: [], pending: 0, lockedUntilMs: 0 };
        entries.set(address, entry);
      }
      const e = entry;
      e.pending++;
      let finished = false;
      return {
        ok: true,
        finish(result) {
          if (finished) return;
          finished = true;
          e.pending--;
          if (result === "success") {
            entries.delete(address);
            return;
          }
          if (result === "neutral") return;
          const at = now();
          e.failures.push(at);
          if (e.failures.length >= max) e.lockedUntilMs = at + backoffCeiling(e.failures.length - max, lockout);
        },
      };
    },
  };
}
