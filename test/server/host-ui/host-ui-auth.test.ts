// The host UI's gate end to end: a real in-process daemon (mock backend) whose one HTTPS listener
// checks real host accounts through PAM (/etc/pam.d/login, libpam through bun:ffi on a Worker),
// driven over real HTTPS with the self-signed certificate pinned. Needs root (useradd, chpasswd);
// without it the suite skips with a message (CI runs as root). The rate-limit test runs last:
// it locks 127.0.0.1 out of logins for the rest of the file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { posix } from "node:path";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { NodeDaemonService } from "../../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { SOCKET_PATH, TICKET_PATH } from "../../../src/server/console-proxy/console-routes.ts";
import { HISTORY_PATH } from "../../../src/server/dashboard/history-route.ts";
import { startTestDaemon, type TestDaemon } from "../../support/daemon.ts";
import { canCreateUsers, createTestAccounts, type TestAccounts } from "./host-users.ts";

const enabled = canCreateUsers();
if (!enabled) console.warn("host UI auth tests skipped: they need root with useradd, groupadd and chpasswd (scripts/install-test-deps.sh)");

let t: TestDaemon;
let users: TestAccounts;
let base: string;
let ca: string;

const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, tls: { ca } } as RequestInit);
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const login = (username: string, password: string, headers: Record<string, string> = {}) => post("/auth/login", { username, password }, headers);

interface LoggedIn {
  cookie: string;
  csrf: string;
  setCookie: string;
  body: { username: string; csrfToken: string; expiresAt: string };
}

async function loginOk(username: string, password: string): Promise<LoggedIn> {
  const r = await login(username, password);
  expect(r.status).toBe(200);
  const setCookie = r.headers.get("set-cookie") ?? "";
  const body = (await r.json()) as LoggedIn["body"];
  return { cookie: setCookie.split(";")[0] ?? "", csrf: body.csrfToken, setCookie, body };
}

const NODE = "limiquantix.node.v1.NodeDaemonService";

describe.skipIf(!enabled)("host UI authentication over HTTPS", () => {
  let admin: LoggedIn;

  beforeAll(async () => {
    users = createTestAccounts();
    t = await startTestDaemon((c) => {
      c.agent.restListenAddress = "127.0.0.1:0";
      c.hostUi.adminGroup = users.group;
      // Nobody reaches inside guests by address (not even loopback): the agent RPCs and REST calls
      // answer only the control plane's own credentials, or a host UI session.
      c.agent.allowedCallers = ["192.0.2.77"];
    });
    base = `https://127.0.0.1:${t.daemon.agentRest?.port}`;
    ca = readFileSync(posix.join(t.config.node.stateDir, "tls", "rest.crt"), "utf8");
  });

  afterAll(async () => {
    await t?.stop();
    users?.remove();
  });

  test("the page loads without a session; the API does not answer without one", async () => {
    const page = await call("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    const routes: [string, string, unknown?][] = [
      ["GET", "/auth/session"],
      ["POST", "/auth/logout"],
      ["GET", "/auth/registration-token"],
      ["POST", "/auth/registration-token"],
      ["POST", `/ui-api/${NODE}/GetNodeInfo`, {}],
      ["POST", `/ui-api/${NODE}/ListVMs`, {}],
      ["POST", `/ui-api/${NODE}/CreateVM`, {}],
      ["POST", `/ui-api/${NODE}/StreamEvents`, {}],
      ["POST", `/ui-api/${NODE}/ExecuteGuestCommand`, {}],
      ["POST", "/ui-api/no.such.Service/Nothing", {}],
      // The session routes of the console and the dashboard (router.ts SESSION_ROUTES).
      ["POST", TICKET_PATH, { vmId: "x" }],
      ["GET", `${SOCKET_PATH}?ticket=x`],
      ["GET", HISTORY_PATH],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(path, { method, headers: { "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect([path, r.status]).toEqual([path, 401]);
      expect(((await r.json()) as { error: string }).error).toBe("no_session");
    }
    // A cookie the daemon never issued is no session either.
    const forged = await call("/auth/session", { headers: { cookie: "lq_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } });
    expect(forged.status).toBe(401);
  });

  test("an admin logs in: session cookie HttpOnly, Secure, SameSite=Strict, with an expiry", async () => {
    admin = await loginOk(users.admin.name, users.admin.password);
    expect(admin.body.username).toBe(users.admin.name);
    expect(admin.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const attrs = admin.setCookie.split(";").map((s) => s.trim());
    expect(attrs[0]).toMatch(/^lq_session=[A-Za-z0-9_-]{43}$/);
    expect(attrs).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "Secure", "SameSite=Strict", `Max-Age=${24 * 3600}`]));
    const expires = Date.parse(admin.body.expiresAt);
    expect(expires).toBeGreaterThan(Date.now());
    const session = await call("/auth/session", { headers: { cookie: admin.cookie } });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({ username: users.admin.name, csrfToken: admin.csrf });
  });

  test("a host user outside the admin group is refused with 403 not_allowed", async () => {
    const r = await login(users.plain.name, users.plain.password);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: string }).error).toBe("not_allowed");
    expect(r.headers.get("set-cookie")).toBeNull();
  });

  test("a login from a foreign page is refused", async () => {
    for (const headers of [{ origin: "https://evil.example" }, { "sec-fetch-site": "cross-site" }] as Record<string, string>[]) {
      const r = await login(users.admin.name, users.admin.password, headers);
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: string }).error).toBe("cross_site");
    }
  });

  test("Connect through /ui-api: unary and server streaming, with the session", async () => {
    const auth: Interceptor = (next) => (req) => {
      req.header.set("cookie", admin.cookie);
      req.header.set("x-csrf-token", admin.csrf);
      return next(req);
    };
    const client = createClient(
      NodeDaemonService,
      createConnectTransport({ baseUrl: `${base}/ui-api`, httpVersion: "1.1", nodeOptions: { ca }, interceptors: [auth] }),
    );
    const info = await client.getNodeInfo({});
    const direct = await t.connect.getNodeInfo({});
    expect(info.hostname).toBe(direct.hostname);
    expect(info.cpu?.totalThreads).toBe(cpus().length);
    expect(info.cpu?.model).toBe(direct.cpu?.model ?? "?");
    expect(info.memory?.totalBytes).toBe(BigInt(totalmem()));
    let received = 0;
    for await (const m of client.streamMetrics({ intervalMs: 250 })) {
      expect(m.timestamp).toBeDefined();
      if (++received === 2) break;
    }
    expect(received).toBe(2);
    // The same calls as raw Connect JSON, as the browser sends them.
    const raw = await post(`/ui-api/${NODE}/HealthCheck`, {}, { cookie: admin.cookie, "x-csrf-token": admin.csrf });
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { healthy: boolean }).healthy).toBe(true);
    const request = Buffer.from(JSON.stringify({ intervalMs: 250 }));
    const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), request]);
    envelope.writeUInt32BE(request.length, 1);
    const stream = await call(`/ui-api/${NODE}/StreamMetrics`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", cookie: admin.cookie, "x-csrf-token": admin.csrf },
      body: envelope,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toBe("application/connect+json");
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let bytes = Buffer.alloc(0);
    while (bytes.length < 5 || bytes.length < 5 + bytes.readUInt32BE(1)) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended before its first message");
      bytes = Buffer.concat([bytes, value]);
    }
    await reader.cancel();
    expect(bytes[0]).toBe(0);
    const first = JSON.parse(bytes.subarray(5, 5 + bytes.readUInt32BE(1)).toString()) as { memoryTotalBytes?: string; timestamp?: string };
    expect(first.timestamp).toBeDefined();
  });

  test("state-changing calls without the CSRF token, or from a foreign origin, are refused", async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, "csrf_failed"],
      [{ "x-csrf-token": "wrong" }, "csrf_failed"],
      [{ "x-csrf-token": admin.csrf, origin: "https://evil.example" }, "cross_site"],
      [{ "x-csrf-token": admin.csrf, "sec-fetch-site": "same-site" }, "cross_site"],
    ];
    for (const path of [`/ui-api/${NODE}/CreateVM`, "/auth/registration-token", "/auth/logout"]) {
      for (const [headers, error] of cases) {
        const r = await post(path, {}, { cookie: admin.cookie, ...headers });
        expect([path, headers, r.status]).toEqual([path, headers, 403]);
        expect(((await r.json()) as { error: string }).error).toBe(error);
      }
    }
    // The right token from the page's own origin passes.
    const ok = await post(
      `/ui-api/${NODE}/HealthCheck`,
      {},
      { cookie: admin.cookie, "x-csrf-token": admin.csrf, origin: base, "sec-fetch-site": "same-origin" },
    );
    expect(ok.status).toBe(200);
  });

  test("registration: the UI makes a token; ping, token and discovery answer the control plane as the contract says", async () => {
    const session = { cookie: admin.cookie, "x-csrf-token": admin.csrf };
    expect((await call("/auth/registration-token", { headers: session })).status).toBe(404);
    const made = await post("/auth/registration-token", {}, session);
    expect(made.status).toBe(200);
    const token = (await made.json()) as Record<string, unknown>;
    expect(token.token).toMatch(/^QUANTIX-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(Object.keys(token).sort()).toEqual(["createdAt", "expiresAt", "expiresInSeconds", "hostname", "managementIp", "token"]);
    expect(token.expiresInSeconds).toBeGreaterThan(3500);
    expect(await (await call("/auth/registration-token", { headers: session })).json()).toMatchObject({ token: token.token });

    const ping = await call("/api/v1/registration/ping");
    expect(ping.status).toBe(200);
    expect(ping.headers.get("content-type")).toContain("application/json");
    const p = (await ping.json()) as Record<string, unknown>;
    expect(p).toMatchObject({ status: "ok", apiVersion: "v1", registrationApiSupported: true, hostname: token.hostname, managementIp: token.managementIp });
    expect(Object.keys(p).sort()).toEqual([
      "apiVersion",
      "buildInfo",
      "hostname",
      "managementIp",
      "message",
      "registrationApiSupported",
      "status",
      "timestamp",
      "version",
    ]);
    expect(Object.keys(p.buildInfo as object).sort()).toEqual(["os", "package", "target", "version"]);

    for (const path of ["/api/v1/registration/token", "/api/v1/registration/discovery"]) {
      const refusals: [Record<string, string>, string][] = [
        [{}, "missing_auth"],
        [{ authorization: `Basic ${token.token}` }, "invalid_auth"],
        [{ authorization: "Bearer QUANTIX-AAAA-BBBB-CCCC" }, "invalid_token"],
      ];
      for (const [headers, error] of refusals) {
        const r = await call(path, { headers });
        expect([path, error, r.status]).toEqual([path, error, 401]);
        const b = (await r.json()) as { error: string; message: string };
        expect(b.error).toBe(error);
        if (error === "invalid_token") expect(b.message).toBe("Invalid or expired registration token");
      }
    }
    const bearer = { authorization: `Bearer ${token.token}` };
    const got = await call("/api/v1/registration/token", { headers: bearer });
    expect(got.status).toBe(200);
    expect(await got.json()).toMatchObject({ token: token.token, hostname: token.hostname, expiresAt: token.expiresAt });
    const d = (await (await call("/api/v1/registration/discovery", { headers: bearer })).json()) as any;
    expect(d.hostname).toBe(token.hostname);
    expect(d.managementIp).toBe(token.managementIp);
    expect(d.cpu.threads).toBe(cpus().length);
    expect(d.cpu.cores).toBeGreaterThan(0);
    expect(typeof d.cpu.model).toBe("string");
    expect(d.memory.totalBytes).toBe(totalmem());
    expect(d.memory.availableBytes).toBeGreaterThan(0);
    expect(Array.isArray(d.storage.local) && Array.isArray(d.storage.nfs) && Array.isArray(d.storage.iscsi)).toBe(true);
    for (const disk of d.storage.local) expect(disk.sizeBytes).toBeGreaterThan(0);
    expect(d.network.length).toBeGreaterThan(0);
    expect(Array.isArray(d.gpus)).toBe(true);
    // A new token replaces the old one.
    await post("/auth/registration-token", {}, session);
    expect((await call("/api/v1/registration/token", { headers: bearer })).status).toBe(401);
  });

  test("the control plane's REST calls keep their own gate; a session is no key to it", async () => {
    for (const headers of [{}, { cookie: admin.cookie, "x-csrf-token": admin.csrf }] as Record<string, string>[]) {
      const r = await call("/api/v1/vms/no-such-vm/logs", { headers });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: string }).error).toBe("forbidden");
    }
  });

  test("the agent RPCs answer a host UI session, and still refuse the same address without one", async () => {
    const vmId = crypto.randomUUID();
    const direct = await t.connect.pingAgent({ vmId }).catch((e: unknown) => ConnectError.from(e));
    expect(direct instanceof ConnectError && direct.code).toBe(Code.PermissionDenied);
    const r = await post(`/ui-api/${NODE}/PingAgent`, { vmId }, { cookie: admin.cookie, "x-csrf-token": admin.csrf });
    expect(((await r.json()) as { code: string }).code).toBe("not_found");
  });

  test("logout ends the session: the cookie is cleared and the old one refused", async () => {
    const second = await loginOk(users.admin.name, users.admin.password);
    const out = await post("/auth/logout", {}, { cookie: second.cookie, "x-csrf-token": second.csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect((await call("/auth/session", { headers: { cookie: second.cookie } })).status).toBe(401);
    const after = await post(`/ui-api/${NODE}/HealthCheck`, {}, { cookie: second.cookie, "x-csrf-token": second.csrf });
    expect(after.status).toBe(401);
    // The other session is untouched.
    expect((await call("/auth/session", { headers: { cookie: admin.cookie } })).status).toBe(200);
  });

  test("a wrong password is 401; five make the next attempt 429 with Retry-After, even with the right one", async () => {
    // Side by side (PAM waits ~3 s after each; attempts in flight count as failures), one for a
    // user that does not exist: the same answer, and (login-timing.ts) the same time, printed.
    const tookMs: number[] = [];
    const wrong = await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) => {
        const started = performance.now();
        const r = await login(i < 5 ? users.admin.name : "lq16tnosuchuser", `wrong-${i}`);
        tookMs[i - 1] = performance.now() - started;
        return r;
      }),
    );
    console.log(`failed logins took ${tookMs.map((ms) => ms.toFixed(0)).join(", ")} ms (the last: a user that does not exist)`);
    expect(wrong.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    for (const r of wrong) expect(await r.json()).toEqual({ error: "invalid_credentials", message: "wrong user name or password" });
    const limited = await login(users.admin.name, users.admin.password);
    expect(limited.status).toBe(429);
    const retry = Number(limited.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(0);
    const body = (await limited.json()) as { error: string; retryAfterSeconds: number };
    expect(body.error).toBe("rate_limited");
    expect(body.retryAfterSeconds).toBe(retry);
    console.log(`after five failures: 429, Retry-After ${retry} s`);
  }, 30_000);
});
