// The gate in front of every host UI route but the login page and /auth/login: a live session
// (cookie), and for anything that changes state, proof that the request comes from the UI
// itself: X-CSRF-Token equal to the session's token, and when the browser says where the
// request comes from (Origin, Sec-Fetch-Site), that it is this very origin. A WebSocket upgrade
// carries no custom header, so for it the Origin check is the proof (browsers always send it).

import { timingSafeEqual } from "node:crypto";
import { cookieValue, SESSION_COOKIE, type Session, type SessionStore } from "./sessions.ts";

export const CSRF_HEADER = "x-csrf-token";

export const jsonError = (status: number, error: string, message: string, headers?: HeadersInit) =>
  Response.json({ error, message }, { status, ...(headers ? { headers } : {}) });

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isWebSocketUpgrade(req: Request): boolean {
  return req.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Why the request is not from this origin, or undefined when nothing says it is foreign. */
export function crossSiteProblem(req: Request): string | undefined {
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin") return `Sec-Fetch-Site is ${site}`;
  const origin = req.headers.get("origin");
  if (origin !== null && origin !== new URL(req.url).origin) return `Origin ${origin} is not ${new URL(req.url).origin}`;
  return undefined;
}

function sameSecret(given: string | null, want: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

export type SessionCheck = { ok: true; session: Session } | { ok: false; response: Response };

export interface RequestGuard {
  /**
   * The request's session, or the answer to send instead: 401 {error:"no_session"} without a
   * live session, 403 {error:"cross_site"} or {error:"csrf_failed"} for a state-changing request
   * (any method but GET/HEAD/OPTIONS) or a WebSocket upgrade that is not provably from the UI.
   */
  check(req: Request): SessionCheck;
  /** The session, if any, without the CSRF rules (GET /auth/session). */
  peek(req: Request): Session | undefined;
}

export function createRequestGuard(store: SessionStore): RequestGuard {
  const peek = (req: Request) => {
    const id = cookieValue(req.headers.get("cookie"), SESSION_COOKIE);
    return id ? store.touch(id) : undefined;
  };
  return {
    peek,
    check(req) {
      const session = peek(req);
      if (!session) return { ok: false, response: jsonError(401, "no_session", "log in first: no session, or it has expired") };
      if (isWebSocketUpgrade(req)) {
        // Browsers always send Origin with a WebSocket handshake; its absence means no browser.
        const problem = req.headers.get("origin") === null ? "no Origin header" : crossSiteProblem(req);
        if (problem) return { ok: false, response: jsonError(403, "cross_site", `refused a cross-site WebSocket: ${problem}`) };
        return { ok: true, session };
      }
      if (SAFE_METHODS.has(req.method)) return { ok: true, session };
      const problem = crossSiteProblem(req);
      if (problem) return { ok: false, response: jsonError(403, "cross_site", `refused a cross-site request: ${problem}`) };
      if (!sameSecret(req.headers.get(CSRF_HEADER), session.csrfToken))
        return { ok: false, response: jsonError(403, "csrf_failed", "the X-CSRF-Token header is missing or wrong; reload the page") };
      return { ok: true, session };
    },
  };
}
