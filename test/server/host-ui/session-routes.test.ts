// The gate router.ts puts in front of session routes (how /console/* and /ui/history plug in),
// on a real HTTPS listener with a stand-in PAM: without a session 401, a POST without the CSRF
// token 403, a WebSocket from a foreign origin 403, and with all of it the route's own answer,
// including a WebSocket that echoes. No root needed.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../../src/config/index.ts";
import { loopbackOnlyPolicy } from "../../../src/server/access.ts";
import type { AgentRestDeps, AgentRestListener } from "../../../src/server/rest/agent-rest.ts";
import { createSelfSigned } from "../../../src/server/rest/self-signed.ts";
import type { SessionRoutes } from "../../../src/server/host-ui/router.ts";
import { hostUiListen } from "../../../src/server/host-ui/start-https.ts";

let listener: AgentRestListener;
let base: string;
const { certPem, keyPem } = createSelfSigned("localhost", ["127.0.0.1", "localhost"]);
const ca = certPem;
let cookie = "";
let csrf = "";

const probeRoutes = (): SessionRoutes => ({
  "/ui/probe/:name": {
    GET: (req, _server, session) => Response.json({ user: session.username, path: new URL(req.url).pathname }),
    POST: (_req, _server, session) => Response.json({ changedBy: session.username }),
  },
  "/console/probe": {
    GET: (req, server, session) =>
      server.upgrade(req, { data: { session, message: (ws, m) => ws.send(`${session.username}:${String(m)}`) } })
        ? undefined
        : new Response("no upgrade", { status: 400 }),
  },
});

beforeAll(async () => {
  const { config } = loadConfig({ flags: { dev: true, logLevel: "silent" }, env: {}, readFile: () => undefined });
  const log = { info() {}, warn() {}, error() {}, debug() {} };
  listener = hostUiListen({
    services: { config, log } as never,
    apiRoutes: () => {},
    hostname: async () => "probe-host",
    managementIp: () => "127.0.0.1",
    identity: async () => ({}) as never,
    hostSample: async () => ({}) as never,
    interfaces: async () => [],
    pam: async ({ password }) => ({
      ok: true,
      outcome: password === "right" ? { stage: "done", code: 0, message: "Success" } : { stage: "authenticate", code: 7, message: "Authentication failure" },
    }),
    account: async (name) => ({ uid: name === "root" ? 0 : 1000, groups: [] }),
    sessionRoutes: [probeRoutes],
    // The wrong-password answer below needs no 4 s wait (login-timing.test.ts tests the floor).
    loginTiming: { floorMs: 0 },
  })({ access: loopbackOnlyPolicy(), log } as unknown as AgentRestDeps, { host: "127.0.0.1", port: 0, certPem, keyPem });
  base = `https://127.0.0.1:${listener.port}`;
  const r = await fetch(`${base}/auth/login`, { method: "POST", body: JSON.stringify({ username: "root", password: "right" }), tls: { ca } } as RequestInit);
  expect(r.status).toBe(200);
  cookie = (r.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  csrf = ((await r.json()) as { csrfToken: string }).csrfToken;
});

afterAll(() => listener?.close());

const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, tls: { ca } } as RequestInit);

test("a session route answers only with a session, and a POST only with the CSRF token", async () => {
  expect((await call("/ui/probe/x")).status).toBe(401);
  expect((await call("/ui/probe/x", { method: "POST" })).status).toBe(401);
  expect(await (await call("/ui/probe/x", { headers: { cookie } })).json()).toEqual({ user: "root", path: "/ui/probe/x" });
  const noToken = await call("/ui/probe/x", { method: "POST", headers: { cookie } });
  expect(noToken.status).toBe(403);
  expect(await (await call("/ui/probe/x", { method: "POST", headers: { cookie, "x-csrf-token": csrf } })).json()).toEqual({ changedBy: "root" });
  expect((await call("/auth/login", { method: "POST", body: JSON.stringify({ username: "root", password: "wrong" }) })).status).toBe(401);
});

function openSocket(headers: Record<string, string>): Promise<{ status: "open"; echo: string } | { status: "refused" }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace("https", "wss")}/console/probe`, { headers, tls: { ca } } as never);
    ws.onopen = () => ws.send("ping");
    ws.onmessage = (e) => {
      resolve({ status: "open", echo: String(e.data) });
      ws.close();
    };
    ws.onerror = () => resolve({ status: "refused" });
    ws.onclose = () => resolve({ status: "refused" });
  });
}

test("a WebSocket session route needs the session and this origin", async () => {
  expect(await openSocket({ origin: base })).toEqual({ status: "refused" });
  expect(await openSocket({ cookie, origin: "https://evil.example" })).toEqual({ status: "refused" });
  expect(await openSocket({ cookie, origin: base })).toEqual({ status: "open", echo: "root:ping" });
});
