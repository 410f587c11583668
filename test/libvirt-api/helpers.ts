// A real daemon in this process with the libvirt backend (test/support/daemon.ts's startTestDaemon,
// but libvirt instead of the mock), real gRPC clients, and the measuring tools the API tiers share.

import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { chmodSync, rmSync } from "node:fs";
import { createLogger } from "../../src/common/logger.ts";
import type { NodeConfig } from "../../src/config/types.ts";
import { startDaemon, type Daemon } from "../../src/daemon.ts";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createBackend, type LibvirtExtras } from "../../src/hypervisor/create-backend.ts";
import { tempDaemonConfig } from "../support/temp-config.ts";
import { freePort } from "../support/free-port.ts";

export interface LibvirtTestDaemon {
  daemon: Daemon;
  config: NodeConfig;
  grpc: Client<typeof NodeDaemonService>;
  storagePath: string;
  poolName: string;
  /** Stops the daemon and removes the temp folder (the caller cleans libvirt's side). */
  stop(): Promise<void>;
}

export interface LibvirtDaemonOptions extends LibvirtExtras {
  uri: string;
  cpuDisabledFeatures?: string[];
  /** Serve Prometheus metrics on a free loopback port. */
  metrics?: boolean;
  /** Node settings of the test's own (e.g. the libvirt call pool's size, queue and deadline). */
  configure?: (config: NodeConfig) => void;
}

export async function startLibvirtDaemon(opts: LibvirtDaemonOptions): Promise<LibvirtTestDaemon> {
  const { config, dir: state } = tempDaemonConfig("lq-api-", { backend: "libvirt", libvirtUri: opts.uri });
  // QEMU runs as libvirt-qemu under qemu:///system: it must be able to reach the images.
  chmodSync(state, 0o755);
  const poolName = opts.poolName ?? `lq-api-${state.slice(-6).toLowerCase()}`;
  const storagePath = config.hypervisor.storagePath;
  config.server.metricsListen = "127.0.0.1";
  config.hypervisor.consoleListen = "127.0.0.1";
  config.hypervisor.cpuDisabledFeatures = opts.cpuDisabledFeatures ?? [];
  config.server.metricsEnabled = opts.metrics === true;
  if (opts.metrics) config.server.metricsPort = await freePort();
  config.server.shutdownTimeoutSeconds = 2;
  opts.configure?.(config);
  const log = createLogger({ level: config.log.level, format: "text" });
  // The configured backend, built by the daemon's own factory; only the domain type and the
  // pool name (not node settings) come from the test.
  const extras: LibvirtExtras = { poolName, ...(opts.domainType ? { domainType: opts.domainType } : {}) };
  const hypervisor = await createBackend(config, log, extras);
  let daemon: Daemon;
  try {
    daemon = await startDaemon(config, log, { hypervisor });
  } catch (err) {
    await hypervisor.close();
    throw err;
  }
  const baseUrl = `http://127.0.0.1:${daemon.api.port}`;
  return {
    daemon,
    config,
    grpc: createClient(NodeDaemonService, createGrpcTransport({ baseUrl })),
    storagePath,
    poolName,
    async stop() {
      await daemon.stop();
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** The call's error as a ConnectError; fails the test when the call succeeded. */
export async function connectErrorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail, and it succeeded");
}

export const codeName = (code: Code) => Code[code];

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

export interface LatencyFigures {
  /** Medians, ms. */
  median: { direct: number; backend: number; api: number; grpcAlone: number };
  /** Medians of the differences to the direct call made just before, ms. */
  added: { backend: number; api: number };
}

/**
 * GetVMStatus three ways, interleaved so slow drifts of libvirt's own answer time cancel out:
 * the ffi calls the backend makes, in this thread; the backend (call Worker, parse); the daemon
 * over gRPC on loopback. A HealthCheck (no libvirt at all) in each round gives what the gRPC
 * round trip alone costs on this machine at this moment.
 */
export async function measureStatusLatency(
  rounds: number,
  direct: () => void,
  backend: () => Promise<unknown>,
  api: () => Promise<unknown>,
  grpcAlone: () => Promise<unknown>,
): Promise<LatencyFigures> {
  const d: number[] = [];
  const b: number[] = [];
  const a: number[] = [];
  const g: number[] = [];
  const time = async (fn: () => unknown, into: number[]) => {
    const t = performance.now();
    await fn();
    into.push(performance.now() - t);
  };
  for (let i = 0; i < 20; i++) {
    direct();
    await backend();
    await api();
    await grpcAlone();
  }
  for (let i = 0; i < rounds; i++) {
    await time(direct, d);
    await time(backend, b);
    await time(api, a);
    await time(grpcAlone, g);
  }
  const pairs = (xs: number[]) => median(xs.map((x, i) => x - (d[i] ?? 0)));
  return {
    median: { direct: median(d), backend: median(b), api: median(a), grpcAlone: median(g) },
    added: { backend: pairs(b), api: pairs(a) },
  };
}

export function latencyRows(r: LatencyFigures): Record<string, string | number>[] {
  return [
    { path: "direct ffi calls, this thread", median: r.median.direct, added: 0 },
    { path: "backend (call Worker + parse)", median: r.median.backend, added: r.added.backend },
    { path: "daemon, gRPC over loopback", median: r.median.api, added: r.added.api },
    { path: "gRPC round trip alone (HealthCheck)", median: r.median.grpcAlone, added: "" },
  ];
}

export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? Number.NaN;
};

/**
 * Polls HealthCheck every intervalMs until stopped; keeps every latency and the answers. A 5 ms
 * timer beside it records how late this thread ever ran: when the whole process was not
 * scheduled (a loaded machine), both show the same spike, whatever libvirt was doing.
 */
export function pollHealth(grpc: Client<typeof NodeDaemonService>, intervalMs = 10) {
  const latencies: number[] = [];
  let unhealthy = 0;
  let running = true;
  let stall = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 5);
    last = now;
  }, 5);
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const h = await grpc.healthCheck({});
      latencies.push(performance.now() - t);
      if (!h.healthy) unhealthy++;
      await Bun.sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      clearInterval(timer);
      return { worst: Math.max(...latencies), p99: percentile(latencies, 99), median: median(latencies), count: latencies.length, unhealthy, stall };
    },
  };
}

/** "worst / p99 / median (thread stall worst)" in ms, for the figures table. */
export const healthFigure = (h: Awaited<ReturnType<ReturnType<typeof pollHealth>["stop"]>>) =>
  `${h.worst.toFixed(1)} / ${h.p99.toFixed(1)} / ${h.median.toFixed(1)} (${h.stall.toFixed(1)})`;

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  const fmt = (v: string | number) => (typeof v === "number" ? v.toFixed(3) : v);
  console.log(`\n${title}`);
  console.table(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fmt(v)]))));
}
