// One-time console tickets, as Proxmox hands out for its VNC consoles: POST /console/ticket
// issues a random ticket bound to the session and the VM, and GET /console/ws redeems it. A
// ticket is gone after its first redemption attempt, right or wrong (a ticket that leaked
// into a log or a Referer cannot be tried again), and is worth nothing after TTL_MS or in
// another session. In memory, without timers: expired tickets are swept when tickets are issued.

import { randomBytes } from "node:crypto";

export const TICKET_TTL_MS = 30_000;
/** Unredeemed tickets one session may hold; issuing more drops its oldest. */
export const MAX_TICKETS_PER_SESSION = 16;
/** Unredeemed tickets in all; issuing more drops the oldest. */
export const MAX_TICKETS = 10_000;

export interface Ticket {
  ticket: string;
  vmId: string;
  sessionId: string;
  expiresAtMs: number;
}

export type Redemption = { ok: true; vmId: string } | { ok: false; why: "unknown" | "expired" | "other_session" };

export interface TicketStore {
  issue(sessionId: string, vmId: string): Ticket;
  /** Takes the ticket out whatever the outcome: a ticket is redeemed at most once. */
  redeem(ticket: string, sessionId: string): Redemption;
  /** Drops every ticket of a session (logout). */
  dropSession(sessionId: string): void;
  /** Unredeemed tickets held (tests, leak checks). */
  size(): number;
}

export interface TicketStoreOptions {
  ttlMs?: number;
  now?: () => number;
}

export function createTicketStore(opts: TicketStoreOptions = {}): TicketStore {
  const ttlMs = opts.ttlMs ?? TICKET_TTL_MS;
  const now = opts.now ?? Date.now;
  // Insertion order is issue order, so the first entries are the oldest.
  const tickets = new Map<string, Ticket>();

  function sweep(t: number): void {
    for (const [key, entry] of tickets) if (entry.expiresAtMs <= t) tickets.delete(key);
  }

  return {
    issue(sessionId, vmId) {
      const t = now();
      sweep(t);
      const mine = [...tickets.values()].filter((x) => x.sessionId === sessionId);
      for (const old of mine.slice(0, Math.max(0, mine.length - MAX_TICKETS_PER_SESSION + 1))) tickets.delete(old.ticket);
      while (tickets.size >= MAX_TICKETS) tickets.delete(tickets.keys().next().value as string);
      const entry: Ticket = { ticket: randomBytes(32).toString("base64url"), vmId, sessionId, expiresAtMs: t + ttlMs };
      tickets.set(entry.ticket, entry);
      return entry;
    },
    redeem(ticket, sessionId) {
      const entry = tickets.get(ticket);
      if (!entry) return { ok: false, why: "unknown" };
      tickets.delete(ticket);
      if (entry.expiresAtMs <= now()) return { ok: false, why: "expired" };
      if (entry.sessionId !== sessionId) return { ok: false, why: "other_session" };
      return { ok: true, vmId: entry.vmId };
    },
    dropSession(sessionId) {
      for (const [key, entry] of tickets) if (entry.sessionId === sessionId) tickets.delete(key);
    },
    size: () => tickets.size,
  };
}
