// Console tickets with a clock the test moves: once, expiry, sessions, caps, logout.

import { expect, test } from "bun:test";
import { dialAddress } from "../../../src/server/console-proxy/console-routes.ts";
import { createTicketStore, MAX_TICKETS_PER_SESSION, TICKET_TTL_MS } from "../../../src/server/console-proxy/ticket-store.ts";

function store() {
  const clock = { now: 1_000_000 };
  return { clock, tickets: createTicketStore({ now: () => clock.now }) };
}

test("a ticket is redeemed once, by its session, for its VM", () => {
  const { tickets } = store();
  const t = tickets.issue("s1", "vm-a");
  expect(t).toMatchObject({ vmId: "vm-a", sessionId: "s1", expiresAtMs: 1_000_000 + TICKET_TTL_MS });
  expect(t.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 random bits
  expect(tickets.issue("s1", "vm-a").ticket).not.toBe(t.ticket);
  expect(tickets.redeem(t.ticket, "s1")).toEqual({ ok: true, vmId: "vm-a" });
  expect(tickets.redeem(t.ticket, "s1")).toEqual({ ok: false, why: "unknown" });
  expect(tickets.redeem("made-up", "s1")).toEqual({ ok: false, why: "unknown" });
});

test("expired at TTL; another session's attempt spends the ticket", () => {
  const { clock, tickets } = store();
  const late = tickets.issue("s1", "vm");
  const almost = tickets.issue("s1", "vm");
  clock.now += TICKET_TTL_MS - 1;
  expect(tickets.redeem(almost.ticket, "s1")).toEqual({ ok: true, vmId: "vm" });
  clock.now += 1;
  expect(tickets.redeem(late.ticket, "s1")).toEqual({ ok: false, why: "expired" });
  const stolen = tickets.issue("s1", "vm");
  expect(tickets.redeem(stolen.ticket, "s2")).toEqual({ ok: false, why: "other_session" });
  expect(tickets.redeem(stolen.ticket, "s1")).toEqual({ ok: false, why: "unknown" });
});

test("expired tickets are swept when tickets are issued; a session holds at most its cap; logout drops them", () => {
  const { clock, tickets } = store();
  for (let i = 0; i < 5; i++) tickets.issue("old", "vm");
  clock.now += TICKET_TTL_MS;
  const mine = Array.from({ length: MAX_TICKETS_PER_SESSION + 4 }, () => tickets.issue("s1", "vm"));
  tickets.issue("s2", "vm");
  expect(tickets.size()).toBe(MAX_TICKETS_PER_SESSION + 1);
  // The oldest went first; the newest are good.
  expect(tickets.redeem(mine[0]!.ticket, "s1")).toEqual({ ok: false, why: "unknown" });
  expect(tickets.redeem(mine.at(-1)!.ticket, "s1").ok).toBe(true);
  tickets.dropSession("s1");
  expect(tickets.size()).toBe(1);
  expect(tickets.redeem(mine.at(-2)!.ticket, "s1")).toEqual({ ok: false, why: "unknown" });
});

test("the proxy dials a console listening everywhere on loopback", () => {
  expect(["0.0.0.0", "::", "[::]", "", "0:0:0:0:0:0:0:0"].map(dialAddress)).toEqual(Array(5).fill("127.0.0.1"));
  expect(dialAddress("127.0.0.1")).toBe("127.0.0.1");
  expect(dialAddress("192.0.2.7")).toBe("192.0.2.7");
  expect(dialAddress("[::1]")).toBe("::1");
});
