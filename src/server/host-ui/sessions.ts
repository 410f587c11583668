// Host UI sessions: a random 256-bit id in an HttpOnly, Secure, SameSite=Strict cookie, looked up
// in this in-memory store (a daemon restart ends every session: nobody stays logged in to a
// daemon that was replaced). A session ends after host_ui.session_idle_minutes unused or
// host_ui.session_max_hours after its login, whichever comes first.

import { randomBytes } from "node:crypto";

export const SESSION_COOKIE = "lq_session";

export interface Session {
  id: string;
  username: string;
  /** Sent by the UI in X-CSRF-Token on every state-changing request. */
  csrfToken: string;
  createdAtMs: number;
  lastSeenMs: number;
}

export interface SessionStoreOptions {
  idleMs: number;
  maxAgeMs: number;
  /** Most sessions held; the least recently used one ends first beyond it. */
  maxSessions?: number;
  now?: () => number;
}

export interface SessionStore {
  create(username: string): Session;
  /** The live session with this id, its idle clock restarted; undefined when unknown or expired. */
  touch(id: string): Session | undefined;
  end(id: string): void;
  /** Ends the sessions past their limits (also done on create and touch); call it now and then. */
  sweep(): void;
  /** Called with the id of every session that ends: logout, expiry, eviction (consoles close). */
  onEnd(listener: (id: string) => void): void;
  /** When the session ends if it stays unused (ms since the epoch). */
  expiresAtMs(session: Session): number;
  size(): number;
}

const newSecret = () => randomBytes(32).toString("base64url");

export function createSessionStore(opts: SessionStoreOptions): SessionStore {
  const now = opts.now ?? Date.now;
  const max = opts.maxSessions ?? 1000;
  // A Map keeps insertion order; touch() re-inserts, so the first entry is the least recently used.
  const sessions = new Map<string, Session>();
  const listeners: ((id: string) => void)[] = [];
  const expiresAtMs = (s: Session) => Math.min(s.lastSeenMs + opts.idleMs, s.createdAtMs + opts.maxAgeMs);
  const end = (id: string) => {
    if (!sessions.delete(id)) return;
    // Every listener hears of every end, even when one before it throws (it must not keep a
    // console open, nor turn the request that found the expiry into a 500).
    for (const l of listeners) {
      try {
        l(id);
      } catch (err) {
        console.error("host UI: a session end listener failed:", err);
      }
    }
  };
  const sweep = () => {
    const t = now();
    for (const [id, s] of sessions) if (expiresAtMs(s) <= t) end(id);
  };
  return {
    create(username) {
      sweep();
      while (sessions.size >= max) end(sessions.keys().next().value as string);
      const t = now();
      const session: Session = { id: newSecret(), username, csrfToken: newSecret(), createdAtMs: t, lastSeenMs: t };
      sessions.set(session.id, session);
      return session;
    },
    touch(id) {
      const s = sessions.get(id);
      if (!s) return undefined;
      if (expiresAtMs(s) <= now()) {
        end(id);
        return undefined;
      }
      sessions.delete(id);
      s.lastSeenMs = now();
      sessions.set(id, s);
      return s;
    },
    end,
    sweep,
    onEnd: (listener) => void listeners.push(listener),
    expiresAtMs,
    size: () => sessions.size,
  };
}

/** Set-Cookie for a new session; Max-Age is the absolute limit (the idle limit is the server's). */
export function sessionCookie(session: Session, maxAgeMs: number): string {
  return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
}

/** The value of one cookie from a Cookie header, or undefined. */
export function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
