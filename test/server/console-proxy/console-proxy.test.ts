// The browser console over real HTTPS and a real WebSocket client: one-time tickets bound to
// the session and the VM, and the proxy relaying RFB from a mock VM's console end to end.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BAR_HEIGHT } from "../../../src/rfb/demo-screen.ts";
import { createConsoleProxy } from "../../../src/server/console-proxy/index.ts";
import { TICKET_TTL_MS } from "../../../src/server/console-proxy/ticket-store.ts";
import { waitFor } from "../../support/daemon.ts";
import { type HostUiHarness, startHostUi } from "./host-ui-harness.ts";

let h: HostUiHarness;
let clock = Date.now();
let proxy: ReturnType<typeof createConsoleProxy>;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  h = await startHostUi({
    // The same routes again under /test-console, with a clock the test moves (expiry).
    extraSessionRoutes: [
      (ctx) => {
        proxy = createConsoleProxy({ hypervisor: ctx.services.hypervisor, log: silent, tickets: { now: () => clock } });
        const r = proxy.routes();
        return { "/test-console/ticket": r["/console/ticket"]!, "/test-console/ws": r["/console/ws"]! };
      },
    ],
  });
});
afterAll(() => h.close());

const errorOf = async (r: Response) => ({ status: r.status, ...((await r.json()) as { error: string; message: string }) });

describe("without a session", () => {
  test("ticket, socket and history are 401; the socket never opens", async () => {
    const vm = await h.runningVm();
    expect(await errorOf(await h.call("/console/ticket", { method: "POST", body: JSON.stringify({ vmId: vm }) }))).toMatchObject({
      status: 401,
      error: "no_session",
    });
    expect((await h.call("/console/ws?ticket=x")).status).toBe(401);
    expect((await h.call("/ui/history")).status).toBe(401);
    const login = await h.login();
    const t = await h.ticket(login, vm);
    await expect(h.openSocket(t.wsPath)).rejects.toThrow();
    // The refused attempt without a cookie did not spend the ticket: it never got that far.
    const ws = await h.openSocket(t.wsPath, login);
    ws.close();
  });

  test("a ticket needs the CSRF token; a WebSocket from another origin is refused", async () => {
    const vm = await h.runningVm();
    const login = await h.login();
    const noCsrf = await h.call("/console/ticket", { method: "POST", headers: { cookie: login.cookie }, body: JSON.stringify({ vmId: vm }) });
    expect(await errorOf(noCsrf)).toMatchObject({ status: 403, error: "csrf_failed" });
    const t = await h.ticket(login, vm);
    const foreign = await h.call(t.wsPath, { headers: { cookie: login.cookie, origin: "https://evil.example", upgrade: "websocket" } });
    expect(await errorOf(foreign)).toMatchObject({ status: 403, error: "cross_site" });
    await expect(h.openSocket(t.wsPath, login, { origin: "https://evil.example" })).rejects.toThrow();
  });
});

describe("tickets", () => {
  test("a ticket works once: the proxy relays RFB from the mock VM; the second use is refused", async () => {
    const vm = await h.runningVm("lq16b-console");
    const login = await h.login();
    const t = await h.ticket(login, vm);
    expect(t.wsPath).toBe(`/console/ws?ticket=${t.ticket}`);
    expect(t.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expires = Date.parse(t.expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(0);
    expect(expires).toBeLessThanOrEqual(TICKET_TTL_MS + 1000);

    const ws = await h.openSocket(t.wsPath, login, { protocols: ["binary"] });
    expect(ws.protocol).toBe("binary");
    const rfb = await h.rfb(ws);
    expect(rfb.serverVersion).toBe("RFB 003.008\n");
    expect(rfb.init).toMatchObject({ width: 640, height: 400, name: "lq16b-console" });
    const [full] = await rfb.update(false);
    expect(full?.pixels.length).toBe(640 * 400 * 4);
    const [a] = await rfb.update(true);
    const [b] = await rfb.update(true);
    expect(a).toMatchObject({ width: 640, height: BAR_HEIGHT });
    expect(Buffer.from(a!.pixels).equals(Buffer.from(b!.pixels))).toBe(false);

    await expect(h.openSocket(t.wsPath, login)).rejects.toThrow();
    expect(await errorOf(await h.call(t.wsPath, { login }))).toMatchObject({
      status: 403,
      error: "ticket_refused",
      message: expect.stringContaining("used already"),
    });
    rfb.close();
  });

  test("an expired ticket is refused", async () => {
    const vm = await h.runningVm();
    const login = await h.login();
    const issue = () =>
      h.call("/test-console/ticket", { method: "POST", login, body: JSON.stringify({ vmId: vm }) }).then((r) => r.json() as Promise<{ ticket: string }>);
    const late = await issue();
    clock += TICKET_TTL_MS + 1;
    const r = await h.call(`/test-console/ws?ticket=${late.ticket}`, { login, headers: { upgrade: "websocket" } });
    expect(await errorOf(r)).toMatchObject({ status: 403, error: "ticket_refused", message: expect.stringContaining("expired") });
    const late2 = await issue();
    clock += TICKET_TTL_MS + 1;
    await expect(h.openSocket(`/test-console/ws?ticket=${late2.ticket}`, login)).rejects.toThrow();
    // In time, the same routes open.
    const fresh = await issue();
    const ws = await h.openSocket(`/test-console/ws?ticket=${fresh.ticket}`, login);
    await waitFor("the proxy to count the console", () => proxy.stats().openConsoles === 1);
    ws.close();
    await waitFor("the proxy to let the console go", () => proxy.stats().openConsoles === 0);
  });

  test("another session's ticket is refused, and is spent by the attempt", async () => {
    const vm = await h.runningVm();
    const alice = await h.login();
    const mallory = await h.login();
    const t = await h.ticket(alice, vm);
    expect(await errorOf(await h.call(t.wsPath, { login: mallory, headers: { upgrade: "websocket" } }))).toMatchObject({
      status: 403,
      message: expect.stringContaining("another session"),
    });
    await expect(h.openSocket(t.wsPath, alice)).rejects.toThrow();
  });

  test("no ticket for a stopped VM (409), an unknown VM (404) or a body without vmId (400)", async () => {
    const vm = await h.runningVm();
    const login = await h.login();
    await h.hypervisor.forceStopVm(vm);
    const post = (body: string) => h.call("/console/ticket", { method: "POST", login, body });
    expect(await errorOf(await post(JSON.stringify({ vmId: vm })))).toMatchObject({ status: 409, error: "no_console" });
    expect(await errorOf(await post(JSON.stringify({ vmId: crypto.randomUUID() })))).toMatchObject({ status: 404, error: "vm_not_found" });
    expect(await errorOf(await post("{}"))).toMatchObject({ status: 400, error: "invalid_request" });
    expect(await errorOf(await post("not json"))).toMatchObject({ status: 400, error: "invalid_json" });
  });
});

describe("closing", () => {
  test("stopping the VM closes the browser's socket", async () => {
    const vm = await h.runningVm();
    const login = await h.login();
    const ws = await h.openSocket((await h.ticket(login, vm)).wsPath, login);
    const rfb = await h.rfb(ws);
    await h.hypervisor.forceStopVm(vm);
    await rfb.closed;
  });

  test("logging out closes the session's open consoles", async () => {
    const vm = await h.runningVm();
    const login = await h.login();
    const other = await h.login();
    const mine = await h.rfb(await h.openSocket((await h.ticket(login, vm)).wsPath, login));
    const theirs = await h.rfb(await h.openSocket((await h.ticket(other, vm)).wsPath, other));
    expect((await h.call("/auth/logout", { method: "POST", login })).status).toBe(204);
    await mine.closed;
    // Another session's console of the same VM stays open.
    expect((await theirs.update(false))[0]?.width).toBe(640);
    theirs.close();
  });
});

describe("dashboard history", () => {
  test("GET /ui/history: interval and points from the metrics hub", async () => {
    const login = await h.login();
    let body: { intervalSeconds: number; points: Record<string, unknown>[] } | undefined;
    await waitFor("a first history point", async () => {
      body = (await (await h.call("/ui/history", { login })).json()) as typeof body;
      return (body?.points.length ?? 0) > 0;
    });
    expect(body?.intervalSeconds).toBe(10);
    expect(body?.points[0]).toEqual({
      t: expect.any(Number),
      cpuPercent: 12.5,
      memoryUsedBytes: 2e9,
      memoryTotalBytes: 8e9,
      load1: 0.5,
      diskUsedBytes: 40e9,
      diskTotalBytes: 100e9,
    });
  });
});
