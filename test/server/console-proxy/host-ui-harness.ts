// The host UI listener (server/host-ui/start-https.ts) over real HTTPS on an ephemeral port,
// with a PAM stand-in that lets everyone in as root (the real PAM login has its own tests and
// the daemon test of this folder), a mock hypervisor, and clients: login, JSON calls, and an
// RFB client over the console WebSocket.

import { createEventBus } from "../../../src/events/event-bus.ts";
import { createMockHypervisor } from "../../../src/hypervisor/mock/index.ts";
import type { Hypervisor } from "../../../src/hypervisor/types.ts";
import { createMetricsHub } from "../../../src/metrics/metrics-hub.ts";
import { consoleSessionRoutes } from "../../../src/server/console-proxy/index.ts";
import { historySessionRoutes } from "../../../src/server/dashboard/history-route.ts";
import type { HostUiContext, SessionRoutes } from "../../../src/server/host-ui/router.ts";
import { hostUiListen } from "../../../src/server/host-ui/start-https.ts";
import { createSelfSigned } from "../../../src/server/rest/self-signed.ts";
import type { HostSample, Telemetry } from "../../../src/telemetry/types.ts";
import { createByteQueue, type RfbClient, rfbHandshake } from "../../support/rfb-client.ts";
import { tempDaemonConfig } from "../../support/temp-config.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };
// One certificate for the file: ECDSA key generation is cheap, but there is no need to repeat it.
const tls = createSelfSigned("localhost", ["127.0.0.1", "localhost"]);

export interface Login {
  cookie: string;
  csrfToken: string;
}

export interface HostUiHarness {
  origin: string;
  hypervisor: Hypervisor;
  login(): Promise<Login>;
  /** fetch on the listener, trusting its certificate; Origin is this origin unless given. */
  call(path: string, init?: RequestInit & { login?: Login }): Promise<Response>;
  /** POST /console/ticket for vmId. */
  ticket(login: Login, vmId: string): Promise<{ ticket: string; wsPath: string; expiresAt: string }>;
  /** Opens wsPath with this login's cookie; resolves on open, rejects when refused. */
  openSocket(wsPath: string, login?: Login, opts?: { origin?: string; protocols?: string[] }): Promise<WebSocket>;
  /** An RFB client over an open console WebSocket. */
  rfb(ws: WebSocket): Promise<RfbClient>;
  /** A running mock VM with a VNC console; its id. */
  runningVm(name?: string): Promise<string>;
  close(): Promise<void>;
}

export function fakeHost(now = new Date()): HostSample {
  return {
    timestamp: now,
    cpu: { total: {} as never, perCpu: new Map(), usagePercent: 12.5 },
    memory: { totalBytes: 8e9, availableBytes: 6e9, raw: new Map() },
    load: { load1: 0.5, load5: 0.4, load15: 0.3 },
    filesystems: [{ path: "/", totalBytes: 100e9, usedBytes: 40e9, availableBytes: 60e9 }],
  };
}

export async function startHostUi(
  opts: { extraSessionRoutes?: ((ctx: HostUiContext) => SessionRoutes)[]; hypervisor?: Hypervisor; now?: () => number } = {},
): Promise<HostUiHarness> {
  const { config } = tempDaemonConfig("lq16b-");
  const hypervisor = opts.hypervisor ?? createMockHypervisor({ bootMs: 0, acpiShutdownMs: 5, storagePath: config.hypervisor.storagePath, serveConsoles: true });
  const telemetry = { sample: async () => fakeHost() } as unknown as Telemetry;
  const hub = createMetricsHub({ telemetry, hypervisor });
  const listen = hostUiListen({
    services: { config, hypervisor, events: createEventBus(), metrics: hub, log: silent },
    apiRoutes: () => {},
    hostname: async () => "lq16b-host",
    managementIp: () => "127.0.0.1",
    identity: async () => ({}) as never,
    hostSample: async () => fakeHost(),
    interfaces: async () => [],
    pam: async () => ({ ok: true, outcome: { stage: "done", code: 0, message: "Success" } }),
    account: async () => ({ uid: 0, groups: ["root"] }),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.extraSessionRoutes ? { sessionRoutes: [consoleSessionRoutes, historySessionRoutes, ...opts.extraSessionRoutes] } : {}),
  });
  const listener = listen(
    { hypervisor, agents: {} as never, access: {} as never, log: silent },
    { host: "127.0.0.1", port: 0, certPem: tls.certPem, keyPem: tls.keyPem },
  );
  const origin = `https://127.0.0.1:${listener.port}`;

  const call: HostUiHarness["call"] = (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has("origin")) headers.set("origin", origin);
    if (init.login) {
      headers.set("cookie", init.login.cookie);
      headers.set("x-csrf-token", init.login.csrfToken);
    }
    return fetch(`${origin}${path}`, { ...init, headers, tls: { ca: tls.certPem } } as RequestInit);
  };

  return {
    origin,
    hypervisor,
    async login() {
      const r = await call("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "root", password: "x" }),
      });
      if (r.status !== 200) throw new Error(`login: ${r.status} ${await r.text()}`);
      const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      return { cookie, csrfToken: ((await r.json()) as { csrfToken: string }).csrfToken };
    },
    call,
    async ticket(login, vmId) {
      const r = await call("/console/ticket", { method: "POST", login, headers: { "content-type": "application/json" }, body: JSON.stringify({ vmId }) });
      if (r.status !== 200) throw new Error(`ticket: ${r.status} ${await r.text()}`);
      return (await r.json()) as { ticket: string; wsPath: string; expiresAt: string };
    },
    openSocket(wsPath, login, o = {}) {
      const headers: Record<string, string> = { origin: o.origin ?? origin };
      if (login) headers.cookie = login.cookie;
      const ws = new WebSocket(`wss://127.0.0.1:${listener.port}${wsPath}`, {
        headers,
        tls: { ca: tls.certPem },
        ...(o.protocols ? { protocols: o.protocols } : {}),
      } as never);
      ws.binaryType = "arraybuffer";
      return new Promise((resolve, reject) => {
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error(`the WebSocket ${wsPath.slice(0, 24)}... was refused`));
        ws.onclose = (e) => reject(new Error(`the WebSocket closed before opening (${e.code} ${e.reason})`));
      });
    },
    rfb(ws) {
      const queue = createByteQueue();
      const closed = new Promise<void>((resolve) => {
        ws.onclose = () => (queue.end(), resolve());
      });
      ws.onmessage = (e) => queue.push(new Uint8Array(e.data as ArrayBuffer));
      return rfbHandshake({ send: (b) => ws.send(b as Uint8Array<ArrayBuffer>), close: () => ws.close(), closed }, queue);
    },
    async runningVm(name) {
      const id = crypto.randomUUID();
      await hypervisor.createVm(id, {
        ...(await import("../../hypervisor/mock-helpers.ts")).spec(name ? { name } : {}),
      });
      await hypervisor.startVm(id);
      return id;
    },
    async close() {
      await listener.close();
      hub.close();
      // A hypervisor the caller passed in is the caller's to close.
      if (!opts.hypervisor) await hypervisor.close();
    },
  };
}
