// The registration token of the contract's section 5 (rows 20-22): an admin makes one in the
// host UI, types it with the host's URL into the control plane, and the control plane presents it
// as a Bearer token to read the host's token and discovery. One token at a time, valid 1 h,
// in memory only (a restart forgets it: make a new one).

import { randomInt, timingSafeEqual } from "node:crypto";

export const TOKEN_TTL_MS = 60 * 60 * 1000;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

export interface RegistrationToken {
  token: string;
  createdAtMs: number;
  expiresAtMs: number;
}

/** QUANTIX-XXXX-XXXX-XXXX: 12 characters of [A-Z0-9] (62 bits) from the CSPRNG. */
export function newTokenText(): string {
  const group = () => Array.from({ length: 4 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
  return `QUANTIX-${group()}-${group()}-${group()}`;
}

export interface RegistrationTokens {
  /** Makes a new token, replacing the current one. */
  issue(): RegistrationToken;
  /** The current token while it is valid. */
  current(): RegistrationToken | undefined;
  /** True when `given` is the current, unexpired token. */
  accepts(given: string): boolean;
}

export function createRegistrationTokens(now: () => number = Date.now): RegistrationTokens {
  let token: RegistrationToken | undefined;
  const current = () => (token && token.expiresAtMs > now() ? token : undefined);
  return {
    issue() {
      const t = now();
      token = { token: newTokenText(), createdAtMs: t, expiresAtMs: t + TOKEN_TTL_MS };
      return token;
    },
    current,
    accepts(given) {
      const live = current();
      if (!live) return false;
      const a = Buffer.from(given);
      const b = Buffer.from(live.token);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}

/** The token's JSON (row 21's response, also what the UI shows). */
export function tokenJson(t: RegistrationToken, host: { hostname: string; managementIp: string }, nowMs: number) {
  return {
    token: t.token,
    createdAt: new Date(t.createdAtMs).toISOString(),
    expiresAt: new Date(t.expiresAtMs).toISOString(),
    expiresInSeconds: Math.max(0, Math.floor((t.expiresAtMs - nowMs) / 1000)),
    hostname: host.hostname,
    managementIp: host.managementIp,
  };
}
