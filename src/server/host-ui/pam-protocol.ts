// The messages between the API thread (pam-login.ts) and the PAM Worker (pam-worker.ts).

import type { PamOutcome } from "./pam-ffi.ts";

export interface PamRequest {
  service: string;
  username: string;
  password: string;
  rhost: string;
}

/** ok: PAM ran (outcome says how it went); not ok: PAM could not run (no libpam, a crash). */
export type PamReply = { ok: true; outcome: PamOutcome } | { ok: false; error: string };
