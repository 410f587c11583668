// The compiled binary's host UI: the page embedded at build time, and PAM on its Worker (an
// extra entrypoint of `bun build --compile`, found relative to src/ inside the binary) checking
// a real host account. Needs root (useradd); skips with a message otherwise.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type BinaryDaemon, startBinaryDaemon } from "../../support/binary-daemon.ts";
import { canCreateUsers, createTestAccounts, type TestAccounts } from "./host-users.ts";
import { freePort } from "../../support/free-port.ts";

const enabled = canCreateUsers();
if (!enabled) console.warn("host UI binary test skipped: it needs root with useradd, groupadd and chpasswd");

describe.skipIf(!enabled)("host UI in the compiled binary", () => {
  let daemon: BinaryDaemon;
  let users: TestAccounts;
  let base = "";
  let ca = "";

  beforeAll(async () => {
    users = createTestAccounts();
    const port = await freePort();
    base = `https://127.0.0.1:${port}`;
    daemon = await startBinaryDaemon(["--dev"], { LIMIQUANTIX_AGENT_REST_LISTEN_ADDRESS: `127.0.0.1:${port}`, LIMIQUANTIX_HOST_UI_ADMIN_GROUP: users.group });
    // The HTTPS listener starts after the API answers: wait for its certificate, then for it.
    const certPath = join(daemon.stateDir, "tls", "rest.crt");
    for (let i = 0; ; i++) {
      try {
        ca = readFileSync(certPath, "utf8");
        const r = await fetch(`${base}/api/v1/registration/ping`, { tls: { ca } } as RequestInit);
        if (r.ok) break;
      } catch (err) {
        if (i > 300) throw new Error(`the HTTPS listener did not come up: ${(err as Error).message}\n${daemon.log()}`);
      }
      await Bun.sleep(20);
    }
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    users?.remove();
  });

  const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, tls: { ca } } as RequestInit);
  const login = (username: string, password: string) =>
    call("/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });

  test("the page is embedded; PAM on its Worker accepts the admin and refuses a wrong password", async () => {
    const page = await call("/");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    const [ok, wrong] = await Promise.all([login(users.admin.name, users.admin.password), login(users.admin.name, "wrong")]);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { username: string }).username).toBe(users.admin.name);
    expect(wrong.status).toBe(401);
    expect((await login(users.plain.name, users.plain.password)).status).toBe(403);
  }, 30_000);
});
