// Wires the concerns into a running daemon: backend, telemetry, events, API listener, metrics
// endpoint, registration. Everything here is started in order and stopped in reverse; tests
// start it in-process on port 0.

import { readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { posix } from "node:path";
import type { TaggedLogger } from "./common/logger.ts";
import type { NodeConfig } from "./config/types.ts";
import { createEventBus, type EventBus, type EventBusOptions } from "./events/event-bus.ts";
import { createBackend } from "./hypervisor/create-backend.ts";
import type { Hypervisor } from "./hypervisor/types.ts";
import { createNodeApi, type NodeApi } from "./server/create-api.ts";
import type { MetricsSource } from "./server/deps.ts";
import { type FetchListener, listenFetch } from "./server/fetch-listener.ts";
import { listen, type Listener, type TlsMaterial } from "./server/listener.ts";
import { managementHost } from "./registration/management-ip.ts";
import { createMetricsHub, createPrometheusExporter, startMetricsServer } from "./metrics/index.ts";
import { createTelemetry, nodeHostIo } from "./telemetry/index.ts";
import { readInterfaceFacts } from "./telemetry/net-interfaces.ts";
import { VERSION } from "./version.ts";
import { type AgentManager, createAgentManager } from "./agent/agent-manager.ts";
import { qemuAgentPingOf } from "./agent/qemu-agent-ping.ts";
import { createAccessPolicy } from "./server/access.ts";
import { startAgentRest } from "./server/rest/start-agent-rest.ts";
import { hostUiListen } from "./server/host-ui/start-https.ts";

export interface Daemon {
  /** The API's bound address (port resolved when 0 was asked for). */
  api: { host: string; port: number };
  /** The API's routes, for a second serving path (server/fetch-listener.ts) and benchmarks. */
  apiRoutes: NodeApi["routes"];
  metrics?: { port: number };
  /** The optional Bun.serve listener for Connect and gRPC-Web over HTTP/1.1 (server.http1_listen_address). */
  http1?: { host: string; port: number };
  /** The HTTPS listener of the agent REST calls (agent.rest_listen_address). */
  agentRest?: { host: string; port: number };
  /** The guest agent connections. */
  agents: AgentManager;
  hypervisor: Hypervisor;
  events: EventBus;
  /** Graceful: ends streams, lets unary calls finish, closes everything. */
  stop(): Promise<void>;
  reloadTls(): Promise<void>;
  /** What is open right now: subscriptions and connections (leak checks, diagnostics). */
  stats(): DaemonStats;
}

export interface DaemonStats {
  /** NodeDaemonService calls whose handler has not finished. */
  activeCalls: number;
  eventSubscribers: number;
  /** StreamMetrics subscriptions the API holds on the metrics hub. */
  metricsSubscribers: number;
  /** Host reads the metrics hub has made; stands still when nobody subscribes. */
  metricsReads: number;
  connections: number;
  sessions: number;
  tlsHandshakeFailures: number;
}

/** For tests and benchmarks: a backend or event bus other than the configured one. */
export interface DaemonOverrides {
  hypervisor?: Hypervisor;
  eventBus?: EventBusOptions;
}

/** Counts the subscriptions the API holds, so a leak shows as a count that never returns to 0. */
function countingSource(source: MetricsSource): MetricsSource & { active(): number } {
  let active = 0;
  return {
    subscribe(intervalMs, listener, onError) {
      const unsubscribe = source.subscribe(intervalMs, listener, onError);
      active++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        active--;
        unsubscribe();
      };
    },
    active: () => active,
  };
}

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(address.slice(i + 1)) };
}

async function readTls(config: NodeConfig): Promise<TlsMaterial | undefined> {
  if (!config.tls.enabled) return undefined;
  const [cert, key, clientCa] = await Promise.all([
    readFile(config.tls.certPath),
    readFile(config.tls.keyPath),
    config.tls.clientCaPath ? readFile(config.tls.clientCaPath) : undefined,
  ]);
  return { cert, key, ...(clientCa ? { clientCa } : {}) };
}

function isLoopback(host: string) {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** The second serving path, when configured: same routes, Bun.serve, HTTP/1.1 clients only. */
function startHttp1Listener(config: NodeConfig, routes: NodeApi["routes"], log: TaggedLogger): FetchListener | undefined {
  const address = config.server.http1ListenAddress;
  if (address === undefined) return undefined;
  const { host, port } = splitHostPort(address);
  // The config refuses this key with tls.enabled, so this port is always cleartext.
  if (!isLoopback(host)) {
    log.warn(
      `the HTTP/1.1 API on ${address} is not encrypted and accepts anyone who can reach it: ` +
        `anyone on this network can create, stop and delete VMs. Listen on 127.0.0.1, or unset server.http1_listen_address.`,
    );
  }
  const fast = listenFetch(routes, { host, port, maxMessageBytes: config.server.maxMessageBytes });
  log.info(`HTTP/1.1 API listening on ${fast.host}:${fast.port} (cleartext; Connect and gRPC-Web only, gRPC stays on ${config.server.listenAddress})`);
  return fast;
}

export async function startDaemon(config: NodeConfig, log: TaggedLogger, overrides: DaemonOverrides = {}): Promise<Daemon> {
  const startedAtMs = performance.now();
  const hypervisor = overrides.hypervisor ?? (await createBackend(config, log));
  const events = createEventBus(overrides.eventBus);
  const unsubscribeBackend = hypervisor.onEvent((e) => events.publish(e));

  const telemetry = createTelemetry(
    {
      procRoot: config.telemetry.procRoot,
      sysRoot: config.telemetry.sysRoot,
      etcRoot: config.telemetry.etcRoot,
      filesystemPaths: [...new Set([config.hypervisor.storagePath, "/"])],
    },
    { log: log.withTag("telemetry") },
  );
  const hub = createMetricsHub({ telemetry, hypervisor, log: log.withTag("metrics") });
  // Local pools that name no path (InitStoragePool) go here, as the control plane's own paths do.
  const poolsDir = posix.join(config.node.stateDir, "pools");
  const apiMetrics = countingSource(hub);
  const { host, port } = splitHostPort(config.server.listenAddress);

  // Loaded only when registration is on: the control plane's client, its generated messages and
  // their descriptors are otherwise dead weight in the daemon's idle memory.
  const registrationOn = config.controlPlane.registrationEnabled && config.controlPlane.address !== undefined && config.controlPlane.address !== "";
  const runningVms = registrationOn ? (await import("./registration/running-vms.ts")).trackRunningVms(hypervisor) : undefined;
  const registrar =
    registrationOn && config.controlPlane.address
      ? (await import("./registration/registrar.ts")).createRegistrar({
          address: config.controlPlane.address,
          ...(config.controlPlane.caFile ? { caFile: config.controlPlane.caFile } : {}),
          ...(config.controlPlane.managementIp ? { managementIp: config.controlPlane.managementIp } : {}),
          heartbeatIntervalSecs: config.controlPlane.heartbeatIntervalSecs,
          grpcPort: port,
          labels: config.node.labels,
          ...(config.node.hostname ? { hostname: config.node.hostname } : {}),
          stateDir: config.node.stateDir,
          ...(config.node.id ? { nodeIdOverride: config.node.id } : {}),
          collectIdentity: () => telemetry.identity(),
          collectFigures: () => heartbeatFigures(),
          vms: (await import("./registration/hypervisor-vms.ts")).hypervisorVmSource(hypervisor),
          storage: (await import("./registration/storage-sync.ts")).createStorageSync({
            hypervisor,
            cloudImagesDir: config.storage.cloudImages,
            localPoolsDir: poolsDir,
            mountsDir: posix.join(config.node.stateDir, "mnt"),
            log: log.withTag("storage"),
          }),
          logger: log.withTag("registration"),
        })
      : undefined;

  async function heartbeatFigures() {
    // Through the hub, so the heartbeat, streams and scrapes share one read of the host; no VM
    // statistics call: the running count comes from the backend's events (running-vms.ts).
    const [host, runningVmCount] = await Promise.all([
      hub.hostSample((config.controlPlane.heartbeatIntervalSecs * 1000) / 2),
      runningVms?.count().catch((err: unknown) => {
        log.debug("heartbeat: cannot count running VMs", err);
        return undefined;
      }),
    ]);
    const root = host.filesystems.find((f) => f.path === config.hypervisor.storagePath) ?? host.filesystems[0];
    // A figure that could not be read stays undefined (the registration layer decides how to send it).
    const mem = host.memory;
    return {
      cpuUsagePercent: host.cpu?.usagePercent,
      memoryUsedBytes: mem === undefined ? undefined : mem.totalBytes - (mem.availableBytes ?? mem.freeBytes ?? 0),
      memoryTotalBytes: mem?.totalBytes,
      runningVmCount,
      diskUsedBytes: root?.usedBytes,
      diskTotalBytes: root?.totalBytes,
      load1: host.load?.load1,
      load5: host.load?.load5,
      load15: host.load?.load15,
    };
  }

  // The guest agents: who may reach inside guests, and one connection per running VM.
  const agentAccess = await createAccessPolicy({
    ...(config.agent.allowedCallers ? { allowedCallers: config.agent.allowedCallers } : {}),
    ...(config.controlPlane.address ? { controlPlaneAddress: config.controlPlane.address } : {}),
    ...(config.agent.bearerTokenFile ? { bearerToken: (await readFile(config.agent.bearerTokenFile, "utf8")).trim() } : {}),
    log: log.withTag("agent"),
  });
  const agents = createAgentManager({
    socketDir: config.agent.socketDir,
    hypervisor,
    emit: (e) => events.publish(e),
    log: log.withTag("agent"),
    pingIntervalMs: config.agent.pingIntervalSecs * 1000,
    requestTimeoutMs: config.agent.requestTimeoutSecs * 1000,
  });

  const api = createNodeApi(
    {
      hypervisor,
      events,
      metrics: apiMetrics,
      hostIdentity: async () => {
        const identity = await telemetry.identity();
        return config.node.hostname ? { ...identity, hostname: config.node.hostname } : identity;
      },
      hostSample: async () => (await hub.sampleNow()).host,
      interfaces: () => readInterfaceFacts(nodeHostIo, { proc: config.telemetry.procRoot, sys: config.telemetry.sysRoot, etc: config.telemetry.etcRoot }),
      node: {
        // The registrar adopts the control plane's id even over a configured one; it is the truth.
        nodeId: () => registrar?.status().nodeId ?? config.node.id ?? "",
        registered: () => registrar?.status().registered ?? false,
        managementIp: () => registrar?.status().managementEndpoint ?? config.controlPlane.managementIp ?? "",
        managementHost: () => managementHost(registrar?.status().managementEndpoint ?? config.controlPlane.managementIp, networkInterfaces()),
        labels: () => config.node.labels,
      },
      version: VERSION,
      startedAtMs,
      defaultStopTimeoutSeconds: config.hypervisor.stopTimeoutSeconds,
      storageRoots: [config.hypervisor.storagePath, config.storage.cloudImages, config.storage.isoImages, poolsDir],
      defaultNetwork: config.hypervisor.defaultNetwork,
      poolsDir,
      stateDir: config.node.stateDir,
      log: log.withTag("api"),
      agents,
      agentAccess,
    },
    {
      maxMessageBytes: config.server.maxMessageBytes,
      // consola's debug level is 4: the call log costs nothing unless someone will read it.
      logCalls: log.level >= 4,
    },
  );

  const tls = await readTls(config);
  if (!tls && !isLoopback(host)) {
    log.warn(
      `the API on ${config.server.listenAddress} is not encrypted and accepts anyone who can reach it: ` +
        `anyone on this network can create, stop and delete VMs. Enable tls (with client_ca_path) or listen on 127.0.0.1.`,
    );
  }
  const listener: Listener = await listen(api.handler, { host, port, ...(tls ? { tls } : {}) });
  log.info(`API listening on ${listener.host}:${listener.port} (${tls ? "TLS" : "cleartext h2c + HTTP/1.1"}), backend ${hypervisor.backend}`);

  const http1 = startHttp1Listener(config, api.routes, log);
  await agents.start();
  const agentRest = await startAgentRest(
    config,
    {
      hypervisor,
      agents,
      access: agentAccess,
      log: log.withTag("agent-rest"),
      ...qemuAgentPingOf(hypervisor),
    },
    log.withTag("agent-rest"),
    // The same listener serves the host UI (server/host-ui/router.ts lists its routes).
    hostUiListen({
      services: { config, hypervisor, events, metrics: hub, log: log.withTag("host-ui") },
      apiRoutes: api.routes,
      hostname: async () => config.node.hostname ?? (await telemetry.identity()).hostname,
      managementIp: () => managementHost(registrar?.status().managementEndpoint ?? config.controlPlane.managementIp, networkInterfaces()),
      identity: () => telemetry.identity(),
      hostSample: async () => (await hub.sampleNow()).host,
      interfaces: () => readInterfaceFacts(nodeHostIo, { proc: config.telemetry.procRoot, sys: config.telemetry.sysRoot, etc: config.telemetry.etcRoot }),
    }),
  );

  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (config.server.metricsEnabled) {
    const exporter = createPrometheusExporter({ hub, hypervisor });
    metricsServer = await startMetricsServer({ host: config.server.metricsListen, port: config.server.metricsPort, exporter });
    log.info(`Prometheus metrics on http://${config.server.metricsListen}:${metricsServer.port}/metrics`);
  }
  registrar?.start();

  return {
    api: { host: listener.host, port: listener.port },
    apiRoutes: api.routes,
    ...(metricsServer ? { metrics: { port: metricsServer.port } } : {}),
    ...(http1 ? { http1: { host: http1.host, port: http1.port } } : {}),
    ...(agentRest ? { agentRest: { host: agentRest.host, port: agentRest.port } } : {}),
    agents,
    hypervisor,
    events,
    stats() {
      const l = listener.stats();
      return {
        activeCalls: api.activeCalls(),
        eventSubscribers: events.subscriberCount(),
        metricsSubscribers: apiMetrics.active(),
        metricsReads: hub.readCount(),
        connections: l.connections,
        sessions: l.sessions,
        tlsHandshakeFailures: l.handshakeFailures,
      };
    },
    async reloadTls() {
      const fresh = await readTls(config);
      if (fresh) listener.setTls(fresh);
    },
    async stop() {
      api.endStreams();
      agents.close();
      runningVms?.close();
      agentAccess.close();
      events.close();
      await Promise.all([
        listener.close(config.server.shutdownTimeoutSeconds * 1000),
        http1?.close(config.server.shutdownTimeoutSeconds * 1000),
        metricsServer?.close(),
        registrar?.stop(),
        agentRest?.close(),
      ]);
      hub.close();
      telemetry.close();
      unsubscribeBackend();
      await hypervisor.close();
    },
  };
}
