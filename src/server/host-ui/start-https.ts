// The one HTTPS listener (agent.rest_listen_address): the control plane's REST calls and the host
// UI on one Bun.serve. startAgentRest (rest/start-agent-rest.ts) finds the certificate and the
// address and calls the function made here; router.ts holds the routes.

import type { Server } from "bun";
import type { ConnectRouter } from "@connectrpc/connect";
import type { HostIdentity, HostSample } from "../../telemetry/index.ts";
import { nodeHostIo } from "../../telemetry/host-io.ts";
import type { InterfaceFacts } from "../../telemetry/net-interfaces.ts";
import { type AgentRestDeps, type AgentRestListener, type AgentRestOptions, agentRestHandler } from "../rest/agent-rest.ts";
import type { HostAccount } from "./host-groups.ts";
import { buildDiscovery, readBlockDevices, readNfsMounts } from "./discovery.ts";
import type { AuthDeps } from "./auth-routes.ts";
import { createLoginLimiter, type LoginLimiterOptions } from "./login-limiter.ts";
import { createPamCheck, type PamCheck } from "./pam-login.ts";
import { createRegistrationTokens } from "./registration-token.ts";
import type { HostFacts } from "./registration-routes.ts";
import { createRequestGuard, jsonError } from "./request-guard.ts";
import { type HostUiContext, type HostUiServices, hostRoutes, type SessionRoutes, UI_PAGES, type UiSocketData, uiWebSocketHandlers } from "./router.ts";
import { secured } from "./security-headers.ts";
import { createSessionStore } from "./sessions.ts";
import { createUiPages } from "./ui-pages.ts";

export interface HostUiDeps {
  services: HostUiServices;
  /** The daemon's Connect routes (create-api.ts), served again under /ui-api. */
  apiRoutes: (router: ConnectRouter) => void;
  hostname(): Promise<string>;
  managementIp(): string;
  identity(): Promise<HostIdentity>;
  hostSample(): Promise<HostSample>;
  interfaces(): Promise<InterfaceFacts[]>;
  /** Tests: a PAM check, an account lookup, limiter settings, session routes instead of router.ts's. */
  pam?: PamCheck;
  account?: (username: string) => Promise<HostAccount | undefined>;
  limiter?: LoginLimiterOptions;
  sessionRoutes?: ((ctx: HostUiContext) => SessionRoutes)[];
  /** Tests: the sessions' clock (idle and absolute expiry), and login-timing.ts's clock and floor. */
  now?: () => number;
  loginTiming?: AuthDeps["loginTiming"];
}

function hostFacts(deps: HostUiDeps): HostFacts {
  const { config } = deps.services;
  return {
    hostname: deps.hostname,
    managementIp: deps.managementIp,
    async discovery() {
      const [identity, sample, interfaces, blockDevices, nfs] = await Promise.all([
        deps.identity(),
        deps.hostSample().catch(() => undefined),
        deps.interfaces().catch(() => []),
        readBlockDevices(nodeHostIo, config.telemetry.sysRoot),
        readNfsMounts(nodeHostIo, config.telemetry.procRoot),
      ]);
      return buildDiscovery({
        hostname: await deps.hostname(),
        managementIp: deps.managementIp(),
        identity,
        ...(sample ? { sample } : {}),
        interfaces,
        blockDevices,
        nfs,
      });
    },
  };
}

/** The listen function startAgentRest calls: REST calls and host UI on one Bun.serve. */
export function hostUiListen(deps: HostUiDeps): (rest: AgentRestDeps, opts: AgentRestOptions) => AgentRestListener {
  return (rest, opts) => {
    const { config, log } = deps.services;
    const maxAgeMs = config.hostUi.sessionMaxHours * 3_600_000;
    const sessions = createSessionStore({ idleMs: config.hostUi.sessionIdleMinutes * 60_000, maxAgeMs, ...(deps.now ? { now: deps.now } : {}) });
    const guard = createRequestGuard(sessions);
    const handleRest = agentRestHandler(rest);
    // Expired sessions end within a minute even if nobody calls (their consoles close then).
    const sweeper = setInterval(() => sessions.sweep(), 60_000);
    sweeper.unref();
    const pages = createUiPages(UI_PAGES);
    const closers: (() => void | Promise<void>)[] = [() => clearInterval(sweeper), pages.close];
    const routes = hostRoutes({
      pages,
      sessions,
      guard,
      limiter: createLoginLimiter(deps.limiter),
      pam: deps.pam ?? createPamCheck(),
      pamService: config.hostUi.pamService,
      adminGroup: config.hostUi.adminGroup,
      maxAgeMs,
      tokens: createRegistrationTokens(),
      facts: hostFacts(deps),
      log,
      ...(deps.account ? { account: deps.account } : {}),
      ...(deps.loginTiming ? { loginTiming: deps.loginTiming } : {}),
      apiRoutes: deps.apiRoutes,
      maxMessageBytes: config.server.maxMessageBytes,
      services: deps.services,
      ...(deps.sessionRoutes ? { sessionRoutes: deps.sessionRoutes } : {}),
      onClose: (fn) => closers.push(fn),
      agentRest: (req, server) =>
        handleRest(req, {
          address: server.requestIP(req)?.address ?? "",
          // Bun.serve cannot show the certificate; under mutual TLS the handshake already refused
          // every client without one the CA signed.
          ...(opts.clientCaPem ? { verifiedCertificate: "client certificate verified by agent.rest_client_ca_path" } : {}),
        }),
    });
    const server: Server<UiSocketData> = Bun.serve<UiSocketData>({
      hostname: opts.host,
      port: opts.port,
      // The UI bundle is built once, minified; no hot reload or browser log echo in a daemon.
      development: false,
      tls: {
        cert: opts.certPem,
        key: opts.keyPem,
        ...(opts.clientCaPem ? { ca: opts.clientCaPem, requestCert: true, rejectUnauthorized: true } : {}),
      },
      routes: routes as never,
      websocket: uiWebSocketHandlers,
      // What no route names: the bundles' assets (/chunk-<hash>.js ...), else a JSON 404.
      fetch: async (req) => {
        const asset = await pages.serve(req);
        if (asset) return secured(asset, { cache: "keep" });
        return secured(jsonError(404, "not_found", `no such page or call: ${req.method} ${new URL(req.url).pathname}`));
      },
      error(err) {
        log.error("host UI listener:", err);
        return secured(jsonError(500, "internal", "internal error in the node daemon; see its log"));
      },
    });
    log.info(`host UI on https://${opts.host}:${server.port}/ (PAM service ${config.hostUi.pamService}; root and group ${config.hostUi.adminGroup})`);
    return {
      host: opts.host,
      port: server.port ?? opts.port,
      close: async () => {
        await server.stop(true);
        for (const fn of closers.splice(0)) await fn();
      },
    };
  };
}
