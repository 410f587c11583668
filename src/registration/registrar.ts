// Registration and heartbeat: the node joins its control plane and stays joined. One loop,
// one call at a time: register (with backoff until it works) and sync the VMs, then heartbeat
// every interval; 3 heartbeat failures in a row (or a control plane that no longer knows the id)
// register again. VM change notifications run beside the loop (vm-reporter.ts), never in it.
// Nothing here throws out of the loop: a control plane that is down only changes status().
import { networkInterfaces } from "node:os";
import { Code, ConnectError } from "@connectrpc/connect";
import { sleep as sleepFor } from "../common/sleep.ts";
import { type BackoffOptions, backoffDelay } from "../common/backoff.ts";
import { managementEndpoint } from "./management-ip.ts";
import { buildHeartbeatRequest, buildRegisterRequest, type HeartbeatFigures, type StoragePoolReport } from "./messages.ts";
import { loadNodeId, saveNodeId } from "./node-id-store.ts";
import { reason } from "./reason.ts";
import { createControlPlaneClient, type ControlPlaneClient } from "./transport.ts";
import { createVmReporter, type ControlPlaneLink } from "./vm-reporter.ts";
import type { Registrar, RegistrarDeps, RegistrationPhase, RegistrationStatus } from "./types.ts";

export type {
  NodeVm,
  NodeVmChange,
  NodeVmSource,
  Registrar,
  RegistrarDeps,
  RegistrarLogger,
  RegistrationPhase,
  RegistrationStatus,
} from "./types.ts";

export const heartbeatFailuresBeforeReregister = 3;
const minIntervalSecs = 1;
const maxIntervalSecs = 3600;

/** Retries of an unreachable control plane: 1 s, doubling, at most a minute (with jitter). */
export const defaultBackoff: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

export function clampIntervalSecs(secs: number): number {
  if (!Number.isFinite(secs)) return 30;
  return Math.min(maxIntervalSecs, Math.max(minIntervalSecs, Math.round(secs)));
}

/** Throws at once on an address that is not an http(s) URL: a configuration error. */
export function createRegistrar(deps: RegistrarDeps): Registrar {
  const protocol = URL.canParse(deps.address) ? new URL(deps.address).protocol : "";
  if (protocol !== "http:" && protocol !== "https:") {
    throw new Error(`control plane address must be an http:// or https:// URL, got "${deps.address}"`);
  }
  const log = deps.logger;
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? sleepFor;
  const random = deps.random ?? Math.random;
  const backoff = { ...defaultBackoff, ...deps.backoff };
  const secondMs = deps.secondMs ?? 1000;
  const callTimeoutMs = deps.callTimeoutMs ?? 10_000;

  let phase: RegistrationPhase = "idle";
  let nodeId: string | undefined;
  let lastHeartbeatAt: Date | undefined;
  let lastError: string | undefined;
  let endpoint: string | undefined;
  let intervalSecs = clampIntervalSecs(deps.heartbeatIntervalSecs);
  let controller: AbortController | undefined;
  let loop: Promise<void> | undefined;
  // Once registered, recovery is announced as "registered again"; before, as the first join.
  let everRegistered = false;

  const collectFigures = (): Promise<HeartbeatFigures> =>
    deps.collectFigures().catch((err: unknown) => {
      // A heartbeat without figures still says the node is alive; telemetry logs its own errors.
      log.debug(`heartbeat figures unavailable: ${reason(err)}`);
      return {};
    });
  // The heartbeat lists the pools afresh; SyncFullState takes the last list.
  const storagePools = (): readonly StoragePoolReport[] => deps.storage?.lastReports() ?? [];
  const reporter = createVmReporter({
    vms: deps.vms,
    log,
    now,
    callTimeoutMs,
    storagePools,
    hostInfo: async () => {
      const [identity, figures] = await Promise.all([deps.collectIdentity(), collectFigures()]);
      return {
        identity,
        figures,
        ...(deps.hostname !== undefined && { hostname: deps.hostname }),
        managementEndpoint: endpoint ?? "",
      };
    },
  });

  const status = (): RegistrationStatus => ({
    registered: phase === "registered",
    ...(nodeId !== undefined && { nodeId }),
    phase,
    ...(lastHeartbeatAt !== undefined && { lastHeartbeatAt }),
    ...(lastError !== undefined && { lastError }),
    intervalSecs,
    ...(endpoint !== undefined && { managementEndpoint: endpoint }),
  });

  const setPhase = (next: RegistrationPhase) => {
    if (next === phase) return;
    phase = next;
    deps.onStateChange?.(status());
  };

  /** Logs a failure once per outage; later failures of the same outage go to debug. */
  const fail = (call: string, err: unknown) => {
    reporter.unreachable();
    lastError = reason(err);
    const what = err instanceof ConnectError ? `control plane unreachable: ${lastError} (${call})` : `${call} failed: ${lastError}`;
    if (phase !== "retrying") {
      log.warn(`${what}; retrying with backoff`);
      setPhase("retrying");
    } else {
      log.debug(`still failing: ${what}`);
    }
  };

  async function register(client: ControlPlaneClient, signal: AbortSignal): Promise<void> {
    const collected = await deps.collectIdentity();
    const identity = deps.hostname === undefined ? collected : { ...collected, hostname: deps.hostname };
    const grpcPort = typeof deps.grpcPort === "function" ? deps.grpcPort() : deps.grpcPort;
    // Detected again at each attempt: an address that came up late (DHCP) is picked up.
    endpoint = managementEndpoint(deps.managementIp, (deps.interfaces ?? networkInterfaces)(), grpcPort);
    const request = buildRegisterRequest({ identity, managementEndpoint: endpoint, labels: deps.labels });
    const node = await client.client.registerNode(request, { signal, timeoutMs: callTimeoutMs });
    if (node.id === "") throw new Error("control plane answered RegisterNode without a node id");
    if (nodeId !== undefined && node.id !== nodeId) {
      log.warn(`control plane assigned node id ${node.id} (was ${nodeId}); adopting it`);
    }
    const changed = node.id !== nodeId;
    nodeId = node.id;
    if (changed) {
      // The id is in use even if it cannot be stored; the next restart registers by hostname again.
      await saveNodeId(deps.stateDir, node.id).catch((err: unknown) => log.error(`cannot store node id in ${deps.stateDir}: ${reason(err)}`));
    }
    lastError = undefined;
    log.info(
      everRegistered ? `registered again as node ${node.id}` : `registered with control plane ${deps.address} as node ${node.id} (management ${endpoint})`,
    );
    everRegistered = true;
    setPhase("registered");
  }

  async function heartbeat(link: ControlPlaneLink & { pools?: ControlPlaneClient["pools"] }) {
    const figures = await collectFigures();
    const request = buildHeartbeatRequest(link.nodeId, figures, {
      stateHash: reporter.stateHash(),
      storagePools: (await deps.storage?.reports()) ?? [],
    });
    const response = await link.client.updateHeartbeat(request, { signal: link.signal, timeoutMs: callTimeoutMs });
    // Assigned pools the node lacks are set up beside the loop (GetPool, InitPool): never in it.
    if (deps.storage && link.pools && response.assignedPoolIds.length > 0) {
      void deps.storage.ensureAssigned(response.assignedPoolIds, link.pools, link.signal);
    }
    lastHeartbeatAt = now();
    // 0 is proto3's "not set": keep the current interval.
    if (response.heartbeatIntervalSecs > 0) {
      const next = clampIntervalSecs(response.heartbeatIntervalSecs);
      if (next !== intervalSecs) {
        log.info(`heartbeat interval changed from ${intervalSecs} s to ${next} s by the control plane`);
        intervalSecs = next;
      }
    }
    if (phase !== "registered") {
      lastError = undefined;
      log.info(`control plane reachable again; heartbeats resumed as node ${link.nodeId}`);
      setPhase("registered");
    }
    await reporter.heartbeatAnswered(link, response.requestFullSync);
  }

  async function run(client: ControlPlaneClient, signal: AbortSignal): Promise<void> {
    let attempt = 0;
    let heartbeatFailures = 0;
    let needRegister = true;
    let delayMs = 0;
    const link = (): ControlPlaneLink & { pools?: ControlPlaneClient["pools"] } => ({
      client: client.client,
      pools: client.pools,
      nodeId: nodeId ?? "",
      signal,
    });
    while (true) {
      await sleep(delayMs, signal);
      if (signal.aborted) return;
      const startedAt = performance.now();
      if (needRegister) {
        try {
          await register(client, signal);
          needRegister = false;
          attempt = 0;
          heartbeatFailures = 0;
          // Heartbeat at once: the control plane marks a node READY on its heartbeats.
          delayMs = 0;
        } catch (err) {
          if (signal.aborted) return;
          fail("RegisterNode", err);
          delayMs = backoffDelay(attempt++, backoff, random, deps.jitter);
          continue;
        }
        // Logs its own failures and never throws: a control plane without these calls still has the node.
        await reporter.registered(link());
        // Then the cloud images folder (contract 6.2 step 1); logs its own failures.
        if (deps.storage && client.images) await deps.storage.scanImages(nodeId ?? "", client.images, signal);
        continue;
      }
      try {
        await heartbeat(link());
        attempt = 0;
        heartbeatFailures = 0;
        // Start to start, so a slow call does not stretch the interval.
        delayMs = Math.max(0, intervalSecs * secondMs - (performance.now() - startedAt));
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ConnectError && err.code === Code.NotFound) {
          // The control plane no longer knows this id (e.g. its database was reset).
          log.warn(`control plane does not know node ${nodeId}; registering again`);
          reporter.unreachable();
          needRegister = true;
          setPhase("registering");
          delayMs = 0;
          continue;
        }
        heartbeatFailures++;
        fail("UpdateHeartbeat", err);
        if (heartbeatFailures >= heartbeatFailuresBeforeReregister) {
          log.debug(`${heartbeatFailures} heartbeat failures in a row; registering again`);
          needRegister = true;
        }
        delayMs = backoffDelay(attempt++, backoff, random, deps.jitter);
      }
    }
  }

  return {
    start() {
      if (controller !== undefined) return;
      const ctl = new AbortController();
      controller = ctl;
      setPhase("registering");
      // Before the first listing, so no change falls between the listing and the subscription.
      reporter.start();
      loop = (async () => {
        let client: ControlPlaneClient | undefined;
        try {
          nodeId =
            deps.nodeIdOverride ??
            (await loadNodeId(deps.stateDir).catch((err: unknown) => {
              // Registering by hostname still finds this node; only the warning is lost.
              log.warn(`cannot read stored node id in ${deps.stateDir}: ${reason(err)}`);
              return undefined;
            }));
          if (nodeId !== undefined) log.debug(`using node id ${nodeId}`);
          client = await createControlPlaneClient(deps);
          await run(client, ctl.signal);
        } catch (err) {
          // Only configuration errors reach here (an unreadable CA file).
          lastError = reason(err);
          log.error(`registration disabled: ${lastError}`);
        } finally {
          client?.close();
          setPhase("idle");
        }
      })();
    },
    async stop() {
      controller?.abort();
      await loop;
      await reporter.stop();
      controller = undefined;
      loop = undefined;
    },
    status,
  };
}
