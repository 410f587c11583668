// The browser console and the dashboard history on the daemon itself: its HTTPS listener, a
// real host account logged in through PAM, a VM created and started through the UI's Connect
// API, its console opened with a ticket over a real WebSocket, RFB read through the proxy from
// the mock VM's console server. Needs root (useradd); skips with a message otherwise.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createByteQueue, rfbHandshake } from "../../support/rfb-client.ts";
import { startTestDaemon, type TestDaemon, waitFor } from "../../support/daemon.ts";
import { canCreateUsers, createTestAccounts, type TestAccounts } from "../host-ui/host-users.ts";

const canRun = canCreateUsers();
if (!canRun) console.warn("skipping the console daemon tests: they create a host user (useradd, chpasswd) and need root");

describe.skipIf(!canRun)("console and history on the daemon", () => {
  let t: TestDaemon;
  let accounts: TestAccounts;
  let origin: string;
  let ca: string;

  beforeAll(async () => {
    accounts = createTestAccounts();
    t = await startTestDaemon((c) => {
      c.agent.restListenAddress = "127.0.0.1:0";
      c.hostUi.adminGroup = accounts.group;
    });
    origin = `https://127.0.0.1:${t.daemon.agentRest?.port}`;
    ca = readFileSync(join(t.config.node.stateDir, "tls", "rest.crt"), "utf8");
  });
  afterAll(async () => {
    await t?.stop();
    accounts?.remove();
  });

  const call = (path: string, init: RequestInit & { login?: { cookie: string; csrfToken: string } } = {}) => {
    const headers = new Headers(init.headers);
    headers.set("origin", origin);
    if (init.login) headers.set("cookie", init.login.cookie), headers.set("x-csrf-token", init.login.csrfToken);
    return fetch(`${origin}${path}`, { ...init, headers, tls: { ca } } as RequestInit);
  };

  test("log in with PAM, create and start a VM, open its console once, read RFB through the proxy; log out", async () => {
    const loginRes = await call("/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: accounts.admin.name, password: accounts.admin.password }),
    });
    expect(loginRes.status).toBe(200);
    const login = {
      cookie: (loginRes.headers.get("set-cookie") ?? "").split(";")[0]!,
      csrfToken: ((await loginRes.json()) as { csrfToken: string }).csrfToken,
    };

    const vmId = crypto.randomUUID();
    const created = await call("/ui-api/limiquantix.node.v1.NodeDaemonService/CreateVM", {
      method: "POST",
      login,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        vmId,
        name: "lq16b-daemon-vm",
        start: true,
        spec: { cpuCores: 1, memoryMib: "512", disks: [{ id: "root", sizeGib: "1", bootable: true }], console: { vncEnabled: true } },
      }),
    });
    expect(created.status).toBe(200);

    const ticketRes = await call("/console/ticket", { method: "POST", login, body: JSON.stringify({ vmId }) });
    expect(ticketRes.status).toBe(200);
    const { wsPath } = (await ticketRes.json()) as { wsPath: string };
    const ws = new WebSocket(`wss://127.0.0.1:${t.daemon.agentRest?.port}${wsPath}`, { headers: { origin, cookie: login.cookie }, tls: { ca } } as never);
    ws.binaryType = "arraybuffer";
    const queue = createByteQueue();
    const closed = new Promise<void>((resolve) => {
      ws.onclose = () => (queue.end(), resolve());
    });
    ws.onmessage = (e) => queue.push(new Uint8Array(e.data as ArrayBuffer));
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("the console WebSocket was refused"));
    });
    const rfb = await rfbHandshake({ send: (b) => ws.send(b as Uint8Array<ArrayBuffer>), close: () => ws.close(), closed }, queue);
    expect(rfb.init.name).toBe("lq16b-daemon-vm");
    const [full] = await rfb.update(false);
    expect(full).toMatchObject({ width: 640, height: 400 });
    rfb.close();
    await closed;

    const again = await call(wsPath, { login });
    expect(again.status).toBe(403);

    const history = await call("/ui/history", { login });
    expect(history.status).toBe(200);
    const body = (await history.json()) as { intervalSeconds: number; points: Record<string, number | null>[] };
    expect(body.intervalSeconds).toBe(10);
    // The listener subscribed at start: the first sample is there (real /proc figures).
    await waitFor("a history point", async () => ((await (await call("/ui/history", { login })).json()) as typeof body).points.length > 0);
    const [p] = ((await (await call("/ui/history", { login })).json()) as typeof body).points;
    expect(Math.abs((p?.t ?? 0) - Date.now())).toBeLessThan(3_600_000);
    for (const k of ["cpuPercent", "memoryUsedBytes", "memoryTotalBytes", "load1", "diskUsedBytes", "diskTotalBytes"])
      expect(p?.[k] === null || typeof p?.[k] === "number").toBe(true);
    expect(p?.memoryTotalBytes).toBeGreaterThan(0);

    expect((await call("/auth/logout", { method: "POST", login })).status).toBe(204);
    expect((await call("/console/ticket", { method: "POST", login, body: JSON.stringify({ vmId }) })).status).toBe(401);
    expect((await call("/ui/history", { login })).status).toBe(401);
  });
});
