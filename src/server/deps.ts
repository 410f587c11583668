// What the API needs from the rest of the daemon. main.ts builds it; tests build their own.

import type { EventBus } from "../events/event-bus.ts";
import type { Hypervisor } from "../hypervisor/types.ts";
import type { HostIdentity, MetricsTick } from "../telemetry/index.ts";

export type { MetricsTick };

/** Shares one host sampler between every StreamMetrics subscriber. */
export interface MetricsSource {
  subscribe(intervalMs: number, listener: (tick: MetricsTick) => void): () => void;
}

/** Who this node is; changes when the control plane assigns an id. */
export interface NodeIdentitySource {
  nodeId(): string;
  registered(): boolean;
  managementIp(): string;
  labels(): Record<string, string>;
}

export type { Logger } from "../common/logger.ts";
import type { Logger } from "../common/logger.ts";

export interface ServiceDeps {
  hypervisor: Hypervisor;
  events: EventBus;
  metrics: MetricsSource;
  hostIdentity: () => Promise<HostIdentity>;
  node: NodeIdentitySource;
  version: string;
  /** Monotonic ms when the daemon started (performance.now() based). */
  startedAtMs: number;
  /** Graceful-stop timeout when a StopVM request names none. */
  defaultStopTimeoutSeconds: number;
  /** Folders client-named disk paths must resolve inside (storage_path, cloud and ISO images). */
  storageRoots: string[];
  log: Logger;
}
