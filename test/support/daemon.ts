// Starts a real daemon in this process (mock backend, ephemeral ports) and hands out real
// clients: Connect's gRPC transport over HTTP/2, and the Connect protocol over HTTP/1.1.

import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createLogger } from "../../src/common/logger.ts";
import type { NodeConfig } from "../../src/config/types.ts";
import { startDaemon, type Daemon, type DaemonOverrides } from "../../src/daemon.ts";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { tempDaemonConfig } from "./temp-config.ts";

export interface TestDaemon {
  daemon: Daemon;
  config: NodeConfig;
  baseUrl: string;
  grpc: Client<typeof NodeDaemonService>;
  connect: Client<typeof NodeDaemonService>;
  stop(): Promise<void>;
}

export async function startTestDaemon(tweak?: (c: NodeConfig) => void, overrides?: DaemonOverrides): Promise<TestDaemon> {
  const { config } = tempDaemonConfig("lq-test-");
  config.server.shutdownTimeoutSeconds = 2;
  tweak?.(config);
  const log = createLogger({ level: config.log.level, format: "text" });
  const daemon = await startDaemon(config, log, overrides);
  const baseUrl = `http://127.0.0.1:${daemon.api.port}`;
  return {
    daemon,
    config,
    baseUrl,
    grpc: createClient(NodeDaemonService, createGrpcTransport({ baseUrl })),
    connect: createClient(NodeDaemonService, createConnectTransport({ baseUrl, httpVersion: "1.1" })),
    stop: () => daemon.stop(),
  };
}

export const newVmId = () => crypto.randomUUID();

/** Polls cond until it holds (no fixed sleep before an action); fails naming what it waited for. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/**
 * The node API's VM, state, snapshot, device, stream and pool RPCs, which the server, security
 * and reliability suites cover one by one (every RPC called, fuzzed, each request field's rules).
 * RPCs added later (volumes, images, the guest agent) are not in this list: their own suites
 * must cover them.
 */
export const NODE_API_RPCS = [
  "HealthCheck",
  "GetNodeInfo",
  "CreateVM",
  "StartVM",
  "StopVM",
  "ForceStopVM",
  "RebootVM",
  "PauseVM",
  "ResumeVM",
  "DeleteVM",
  "GetVMStatus",
  "ListVMs",
  "GetConsole",
  "CreateSnapshot",
  "RevertSnapshot",
  "DeleteSnapshot",
  "ListSnapshots",
  "AttachDisk",
  "DetachDisk",
  "AttachNIC",
  "DetachNIC",
  "ChangeMedia",
  "MigrateVM",
  "StreamMetrics",
  "StreamEvents",
  "InitStoragePool",
  "GetStoragePoolInfo",
  "ListStoragePools",
  "ListStoragePoolFiles",
  "ResizeVolume",
] as const;
