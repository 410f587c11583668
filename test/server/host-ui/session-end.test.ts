// The end of a host UI session, over real HTTPS with a clock the test moves: logout, idle expiry
// and absolute expiry each announce the session's end to ctx.onSessionEnd exactly once (however
// often the dead cookie comes back), and close the consoles that session opened, not others.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createSessionStore, SESSION_COOKIE } from "../../../src/server/host-ui/sessions.ts";
import { waitFor } from "../../support/daemon.ts";
import { type HostUiHarness, type Login, startHostUi } from "../console-proxy/host-ui-harness.ts";

// tempDaemonConfig's defaults: host_ui.session_idle_minutes 480, host_ui.session_max_hours 24.
const IDLE_MS = 480 * 60_000;
const MAX_AGE_MS = 24 * 3_600_000;

let h: HostUiHarness;
let clock = 1_900_000_000_000;
const ended: string[] = [];
let vm = "";

beforeAll(async () => {
  h = await startHostUi({
    now: () => clock,
    extraSessionRoutes: [
      (ctx) => {
        ctx.onSessionEnd((id) => ended.push(id));
        return {};
      },
    ],
  });
  vm = await h.runningVm();
});
afterAll(() => h?.close());

const idOf = (login: Login) => login.cookie.slice(`${SESSION_COOKIE}=`.length);
const endsOf = (login: Login) => ended.filter((id) => id === idOf(login)).length;

/** An open console of this login, and whether it has closed. */
async function openConsole(login: Login): Promise<{ closed: () => boolean }> {
  const t = await h.ticket(login, vm);
  const ws = await h.openSocket(t.wsPath, login);
  let closed = false;
  ws.onclose = () => {
    closed = true;
  };
  ws.onerror = () => {};
  return { closed: () => closed };
}

/** The session as the server sees it now (a request touches it; an expired one ends then). */
const sessionStatus = async (login: Login) => (await h.call("/auth/session", { login })).status;

test("logout: announced once, its console closes, another session's stays open", async () => {
  const [a, other] = [await h.login(), await h.login()];
  const [consoleA, consoleOther] = [await openConsole(a), await openConsole(other)];
  expect((await h.call("/auth/logout", { method: "POST", login: a })).status).toBe(204);
  await waitFor("the logged-out session's console to close", consoleA.closed);
  expect(await sessionStatus(a)).toBe(401);
  expect((await h.call("/auth/logout", { method: "POST", login: a })).status).toBe(401);
  expect(endsOf(a)).toBe(1);
  expect(endsOf(other)).toBe(0);
  expect(await sessionStatus(other)).toBe(200);
  expect(consoleOther.closed()).toBe(false);
  expect((await h.call("/auth/logout", { method: "POST", login: other })).status).toBe(204);
  await waitFor("the other console to close", consoleOther.closed);
});

test("idle expiry: announced once when the dead cookie is next seen, and its console closes", async () => {
  const b = await h.login();
  const consoleB = await openConsole(b);
  clock += IDLE_MS - 1;
  expect(await sessionStatus(b)).toBe(200);
  clock += IDLE_MS;
  expect(endsOf(b)).toBe(0);
  expect(await sessionStatus(b)).toBe(401);
  await waitFor("the idle session's console to close", consoleB.closed);
  expect(await sessionStatus(b)).toBe(401);
  expect(endsOf(b)).toBe(1);
});

test("absolute expiry: a session in use ends at session_max_hours, announced once, its console closes", async () => {
  const c = await h.login();
  const consoleC = await openConsole(c);
  const loggedInAt = clock;
  // Used just often enough never to be idle, until the absolute limit.
  while (clock + IDLE_MS / 2 < loggedInAt + MAX_AGE_MS) {
    clock += IDLE_MS / 2;
    expect(await sessionStatus(c)).toBe(200);
  }
  expect(consoleC.closed()).toBe(false);
  clock = loggedInAt + MAX_AGE_MS;
  expect(await sessionStatus(c)).toBe(401);
  await waitFor("the expired session's console to close", consoleC.closed);
  expect(await sessionStatus(c)).toBe(401);
  expect(endsOf(c)).toBe(1);
  // Every session of this file ended once, none twice.
  expect(new Set(ended).size).toBe(ended.length);
});

test("a listener that throws does not keep the others from hearing of the end, nor stop a sweep", () => {
  let now = 0;
  const heard: string[] = [];
  const store = createSessionStore({ idleMs: 1000, maxAgeMs: 10_000, now: () => now });
  store.onEnd(() => {
    throw new Error("a broken listener");
  });
  store.onEnd((id) => heard.push(id));
  const [a, b] = [store.create("a"), store.create("b")];
  const errors = console.error;
  console.error = () => {};
  try {
    now = 5000;
    store.sweep();
  } finally {
    console.error = errors;
  }
  expect(heard).toEqual([a.id, b.id]);
  expect(store.size()).toBe(0);
});
