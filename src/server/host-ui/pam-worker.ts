// The PAM Worker: one per login attempt (pam-login.ts starts it, asks once, terminates it).
// PAM blocks for seconds after a wrong password; here that stalls only this thread. A fresh
// Worker per attempt keeps no PAM state between logins and lets attempts run side by side.

import { pamLogin } from "./pam-ffi.ts";
import type { PamReply, PamRequest } from "./pam-protocol.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<PamRequest>) => {
  const { service, username, password, rhost } = event.data;
  let reply: PamReply;
  try {
    reply = { ok: true, outcome: pamLogin(service, username, password, rhost) };
  } catch (err) {
    reply = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply);
};
