// Every answer of the host UI listener carries the security headers (security-headers.ts): the
// bundled page and its assets (served through ui-pages.ts, since Bun's HTML routes cannot set
// headers), the auth and API answers, refusals, the console WebSocket's refusal, unknown paths.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { contentSecurityPolicy, type Framing, secured, securedHandler } from "../../../src/server/host-ui/security-headers.ts";
import { type HostUiHarness, type Login, startHostUi } from "../console-proxy/host-ui-harness.ts";

const NODE = "limiquantix.node.v1.NodeDaemonService";

function expectSecured(res: Response, what: string, framing: Framing = "deny"): void {
  const h = (name: string) => [what, name, res.headers.get(name)];
  expect(h("content-security-policy")).toEqual([what, "content-security-policy", contentSecurityPolicy(framing)]);
  expect(h("x-frame-options")).toEqual([what, "x-frame-options", framing === "deny" ? "DENY" : "SAMEORIGIN"]);
  expect(h("x-content-type-options")).toEqual([what, "x-content-type-options", "nosniff"]);
  expect(h("referrer-policy")).toEqual([what, "referrer-policy", "no-referrer"]);
}

describe("security headers, pure", () => {
  test("the policy forbids framing (but by the UI itself, for the console page) and foreign sources", () => {
    expect(contentSecurityPolicy()).toContain("frame-ancestors 'none'");
    expect(contentSecurityPolicy("same-origin")).toContain("frame-ancestors 'self'");
    for (const framing of ["deny", "same-origin"] as const) {
      expect(contentSecurityPolicy(framing)).toContain("default-src 'self'");
      expect(contentSecurityPolicy(framing)).toContain("connect-src 'self' wss:");
      expect(contentSecurityPolicy(framing)).not.toContain("unsafe-");
    }
  });

  test("secured sets them on mutable and immutable headers; no-store unless told to keep", async () => {
    const api = secured(Response.json({ a: 1 }, { headers: { "cache-control": "max-age=60" } }));
    expectSecured(api, "json");
    expect(api.headers.get("cache-control")).toBe("no-store");
    const kept = secured(new Response("x", { headers: { "cache-control": "public, max-age=31536000, immutable" } }), { cache: "keep" });
    expect(kept.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const fetched = secured(await fetch("data:text/plain,hi"));
    expectSecured(fetched, "a fetch answer");
    expect(await fetched.text()).toBe("hi");
  });

  test("securedHandler secures sync and async answers and passes undefined (an upgrade) through", async () => {
    expectSecured(securedHandler(() => new Response("a"))() as Response, "sync");
    expectSecured((await securedHandler(async () => new Response("a"))()) as Response, "async");
    expect(securedHandler(() => undefined)()).toBeUndefined();
  });
});

describe("security headers on the listener", () => {
  let h: HostUiHarness;
  let login: Login;
  beforeAll(async () => {
    h = await startHostUi();
    login = await h.login();
  });
  afterAll(() => h?.close());

  test("the page and every asset it names, with Bun's caching kept; only the console page may be framed, by the UI", async () => {
    for (const [path, framing] of [
      ["/", "deny"],
      ["/ui/console?vm=x", "same-origin"],
    ] as const) {
      const page = await h.call(path);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(page.headers.get("cache-control")).not.toContain("immutable");
      expectSecured(page, path, framing);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1] as string);
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        const a = await h.call(asset);
        expect([asset, a.status]).toEqual([asset, 200]);
        expectSecured(a, asset);
        expect(a.headers.get("cache-control")).toContain("immutable");
        expect((await a.arrayBuffer()).byteLength).toBeGreaterThan(0);
        const again = await h.call(asset, { headers: { "if-none-match": a.headers.get("etag") ?? "" } });
        expect([asset, again.status]).toEqual([asset, 304]);
      }
    }
  });

  test("auth, API, refusals and unknown paths: secured and never cached", async () => {
    const answers: [string, Response, number][] = [
      ["/auth/session", await h.call("/auth/session", { login }), 200],
      ["/auth/session without a session", await h.call("/auth/session"), 401],
      ["/ui-api", await h.call(`/ui-api/${NODE}/GetNodeInfo`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), 401],
      ["/ui-api unknown", await h.call("/ui-api/nope", { login, method: "POST" }), 404],
      ["/console/ws without a ticket", await h.call("/console/ws", { login, headers: { upgrade: "websocket", connection: "Upgrade" } }), 400],
      ["/console/ws with a bad ticket", await h.call("/console/ws?ticket=nope", { login }), 403],
      ["/ui/history", await h.call("/ui/history", { login }), 200],
      ["an unknown path", await h.call("/nope.js"), 404],
    ];
    for (const [what, res, status] of answers) {
      expect([what, res.status]).toEqual([what, status]);
      expectSecured(res, what);
      expect([what, res.headers.get("cache-control")]).toEqual([what, "no-store"]);
    }
  });
});
