// /auth/*: login with the host's own accounts (PAM), the session, logout, and the UI's side of
// the registration token. Answers are JSON; errors are {error, message} (login's 429 also
// has retryAfterSeconds and a Retry-After header).

import type { Server } from "bun";
import type { Logger } from "../deps.ts";
import { type HostAccount, mayUseHostUi, readHostAccount } from "./host-groups.ts";
import type { LoginAttempt, LoginLimiter } from "./login-limiter.ts";
import { FAILED_LOGIN_FLOOR_MS, type LoginClock, realLoginClock, withFailureFloor } from "./login-timing.ts";
import { PamBusyError, type PamCheck } from "./pam-login.ts";
import { type RegistrationTokens, tokenJson } from "./registration-token.ts";
import type { HostFacts } from "./registration-routes.ts";
import { crossSiteProblem, jsonError, type RequestGuard } from "./request-guard.ts";
import { clearedSessionCookie, cookieValue, SESSION_COOKIE, type Session, type SessionStore, sessionCookie } from "./sessions.ts";

export interface AuthDeps {
  sessions: SessionStore;
  guard: RequestGuard;
  limiter: LoginLimiter;
  pam: PamCheck;
  pamService: string;
  adminGroup: string;
  maxAgeMs: number;
  tokens: RegistrationTokens;
  facts: HostFacts;
  log: Logger;
  /** Account lookup (tests may replace it); default: `id <user>`. */
  account?: (username: string) => Promise<HostAccount | undefined>;
  /** Tests: the clock and floor of login-timing.ts (every failed check takes floorMs). */
  loginTiming?: { clock?: LoginClock; floorMs?: number };
}

/** Login names PAM and `id` are given: what useradd and common directory services allow. */
const USERNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}\$?$/;
const MAX_PASSWORD_BYTES = 1024;

/** A login body is a few dozen bytes: anyone may send one, so nobody may send a large one. */
const MAX_LOGIN_BODY_BYTES = 8192;

async function cappedText(req: Request, max: number): Promise<string | undefined> {
  if (Number(req.headers.get("content-length") ?? 0) > max) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body ?? []) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function credentials(req: Request): Promise<{ username: string; password: string } | undefined> {
  try {
    const text = await cappedText(req, MAX_LOGIN_BODY_BYTES);
    if (text === undefined) return undefined;
    const body = JSON.parse(text) as { username?: unknown; password?: unknown };
    if (typeof body?.username !== "string" || typeof body.password !== "string") return undefined;
    if (!USERNAME_RE.test(body.username) || Buffer.byteLength(body.password) > MAX_PASSWORD_BYTES || body.password.includes("\0")) return undefined;
    return { username: body.username, password: body.password };
  } catch {
    return undefined;
  }
}

type LoginAttemptOk = Extract<LoginAttempt, { ok: true }>;

export function authRoutes(deps: AuthDeps) {
  const { sessions, guard, log } = deps;
  const lookup = deps.account ?? readHostAccount;
  const sessionJson = (s: Session) => ({ username: s.username, csrfToken: s.csrfToken, expiresAt: new Date(sessions.expiresAtMs(s)).toISOString() });
  const hostInfo = async () => ({ hostname: await deps.facts.hostname(), managementIp: deps.facts.managementIp() });

  async function login(req: Request, server: Server<unknown>): Promise<Response> {
    // Login CSRF: a foreign page must not log the browser in to an account of its choosing.
    const foreign = crossSiteProblem(req);
    if (foreign) return jsonError(403, "cross_site", `refused a cross-site login: ${foreign}`);
    const creds = await credentials(req);
    if (!creds) return jsonError(400, "invalid_request", "send JSON {username, password} with a valid user name");
    const address = server.requestIP(req)?.address ?? "unknown";
    const attempt = deps.limiter.begin(address);
    if (!attempt.ok) {
      log.warn(`host UI login by ${JSON.stringify(creds.username)} from ${address} refused: too many failed logins`);
      return Response.json(
        {
          error: "rate_limited",
          message: `too many failed logins from ${address}; try again in ${attempt.retryAfterSeconds} s`,
          retryAfterSeconds: attempt.retryAfterSeconds,
        },
        { status: 429, headers: { "retry-after": String(attempt.retryAfterSeconds) } },
      );
    }
    // From here the answer may depend on the account: every failure takes the same time.
    return withFailureFloor(
      () => check(creds, address, attempt),
      deps.loginTiming?.clock ?? realLoginClock,
      deps.loginTiming?.floorMs ?? FAILED_LOGIN_FLOOR_MS,
    );
  }

  async function check(creds: { username: string; password: string }, address: string, attempt: LoginAttemptOk): Promise<Response> {
    let reply: Awaited<ReturnType<PamCheck>>;
    try {
      reply = await deps.pam({ service: deps.pamService, username: creds.username, password: creds.password, rhost: address });
    } catch (err) {
      attempt.finish("neutral");
      if (err instanceof PamBusyError) return jsonError(503, "busy", err.message, { "retry-after": "5" });
      throw err;
    }
    if (!reply.ok) {
      attempt.finish("neutral");
      log.error(`host UI login: PAM could not run: ${reply.error}`);
      return jsonError(503, "pam_unavailable", `the host cannot check passwords right now (${reply.error}); see the daemon's log`);
    }
    const { outcome } = reply;
    if (outcome.stage === "start" || outcome.stage === "authenticate") {
      attempt.finish("failure");
      log.warn(`host UI login by ${JSON.stringify(creds.username)} from ${address} failed: ${outcome.message}`);
      return jsonError(401, "invalid_credentials", "wrong user name or password");
    }
    attempt.finish("neutral");
    if (outcome.stage === "account") {
      log.warn(`host UI login by ${creds.username} from ${address} refused by PAM's account check: ${outcome.message}`);
      return jsonError(403, "not_allowed", `the host does not let ${creds.username} log in now (${outcome.message})`);
    }
    const account = await lookup(creds.username);
    if (!account || !mayUseHostUi(account, deps.adminGroup)) {
      log.warn(`host UI login by ${creds.username} from ${address} refused: not root and not in group ${deps.adminGroup}`);
      return jsonError(403, "not_allowed", `only root and members of the group ${deps.adminGroup} may use the host UI (host_ui.admin_group)`);
    }
    attempt.finish("success");
    const session = sessions.create(creds.username);
    log.info(`host UI login by ${creds.username} from ${address}`);
    return Response.json(sessionJson(session), { headers: { "set-cookie": sessionCookie(session, deps.maxAgeMs), "cache-control": "no-store" } });
  }

  return {
    "/auth/login": { POST: login },
    "/auth/session": {
      GET: (req: Request) => {
        const s = guard.peek(req);
        return s ? Response.json(sessionJson(s), { headers: { "cache-control": "no-store" } }) : jsonError(401, "no_session", "not logged in");
      },
    },
    "/auth/logout": {
      POST: (req: Request) => {
        const c = guard.check(req);
        if (!c.ok) return c.response;
        sessions.end(cookieValue(req.headers.get("cookie"), SESSION_COOKIE) ?? "");
        log.info(`host UI logout by ${c.session.username}`);
        return new Response(null, { status: 204, headers: { "set-cookie": clearedSessionCookie() } });
      },
    },
    "/auth/registration-token": {
      GET: async (req: Request) => {
        const c = guard.check(req);
        if (!c.ok) return c.response;
        const live = deps.tokens.current();
        if (!live) return jsonError(404, "no_token", "no registration token; make one");
        return Response.json(tokenJson(live, await hostInfo(), Date.now()), { headers: { "cache-control": "no-store" } });
      },
      POST: async (req: Request) => {
        const c = guard.check(req);
        if (!c.ok) return c.response;
        const t = deps.tokens.issue();
        log.info(`registration token made by ${c.session.username} (valid until ${new Date(t.expiresAtMs).toISOString()})`);
        return Response.json(tokenJson(t, await hostInfo(), Date.now()), { headers: { "cache-control": "no-store" } });
      },
    },
  };
}
