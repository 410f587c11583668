// An in-process daemon for the security and reliability tests: the real startDaemon (listener,
// event bus, metrics hub, interceptors) on ephemeral loopback ports, with a backend, event-bus
// limits and TLS of the test's choosing, a logger whose lines the test can read, and clients.

import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createConsola, type LogObject } from "consola";
import { rmSync } from "node:fs";
import { formatWithOptions } from "node:util";
import type { NodeConfig } from "../../src/config/types.ts";
import { startDaemon, type Daemon, type DaemonOverrides } from "../../src/daemon.ts";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createMockHypervisor, type MockOptions } from "../../src/hypervisor/mock/index.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";
import { tempDaemonConfig } from "../support/temp-config.ts";

export interface Harness {
  daemon: Daemon;
  config: NodeConfig;
  /** The state folder; storage_path is <dir>/vms. */
  dir: string;
  baseUrl: string;
  grpc: Client<typeof NodeDaemonService>;
  connect: Client<typeof NodeDaemonService>;
  /** Every log line so far, formatted ("level message"). */
  logs: string[];
  stop(): Promise<void>;
}

export interface HarnessOptions {
  tweak?: (c: NodeConfig) => void;
  /** A fast mock by default (boot 1 ms, ACPI 5 ms, migration steps 2 ms). */
  mock?: MockOptions;
  /** A backend of the test's own, built once the config (storage path) is known. */
  backend?: (c: NodeConfig) => Hypervisor;
  overrides?: DaemonOverrides;
  /** Sees every log line as it is written (also when start-up fails). */
  onLog?: (line: string) => void;
  /** Client transport options (TLS material) when the config enables TLS. */
  nodeOptions?: Record<string, unknown>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const { config, dir } = tempDaemonConfig("lq-rel-");
  config.server.shutdownTimeoutSeconds = 2;
  opts.tweak?.(config);
  const logs: string[] = [];
  const log = createConsola({
    level: 4,
    reporters: [
      {
        log: (o: LogObject) => {
          const line = `${o.type} ${formatWithOptions({ breakLength: Infinity }, ...o.args)}`;
          logs.push(line);
          opts.onLog?.(line);
        },
      },
    ],
  });
  const hypervisor =
    opts.backend?.(config) ??
    opts.overrides?.hypervisor ??
    createMockHypervisor({
      bootMs: 1,
      acpiShutdownMs: 5,
      migrationStepMs: 2,
      storagePath: config.hypervisor.storagePath,
      cloudImagesDir: config.storage.cloudImages,
      isoImagesDir: config.storage.isoImages,
      consoleListen: config.hypervisor.consoleListen,
      ...opts.mock,
    });
  const daemon = await startDaemon(config, log, { ...opts.overrides, hypervisor }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const scheme = config.tls.enabled ? "https" : "http";
  const baseUrl = `${scheme}://127.0.0.1:${daemon.api.port}`;
  const nodeOptions = opts.nodeOptions ?? {};
  return {
    daemon,
    config,
    dir,
    baseUrl,
    logs,
    grpc: createClient(NodeDaemonService, createGrpcTransport({ baseUrl, nodeOptions })),
    connect: createClient(NodeDaemonService, createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions })),
    async stop() {
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const newVmId = () => crypto.randomUUID();

/** A small valid VMSpec (no disks unless given; the node adds an empty CD-ROM and a NIC). */
export function smallSpec(extra: Record<string, unknown> = {}) {
  return { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n, ...extra };
}

/** CreateVM's name, spec and labels for a small VM: `createVM({ vmId, ...smallVm("web") })`. */
export function smallVm(name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}) {
  return { name, spec: smallSpec(spec), labels };
}

export { waitFor } from "../support/daemon.ts";

/** The gRPC code of a failed call, or undefined when it succeeded. */
export async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

/** Drains a server stream; resolves with the messages and the final error (if any). */
export async function drain<T>(stream: AsyncIterable<T>): Promise<{ messages: T[]; error?: unknown }> {
  const messages: T[] = [];
  try {
    for await (const m of stream) messages.push(m);
    return { messages };
  } catch (error) {
    return { messages, error };
  }
}
