// What the API needs from the rest of the daemon. main.ts builds it; tests build their own.

import type { EventBus } from "../events/event-bus.ts";
import type { Hypervisor } from "../hypervisor/types.ts";
import type { AgentManager } from "../agent/agent-manager.ts";
import type { AccessPolicy } from "./access.ts";
import type { MetricsTick } from "../metrics/index.ts";
import type { HostIdentity, HostSample } from "../telemetry/index.ts";
import type { InterfaceFacts } from "../telemetry/net-interfaces.ts";

export type { MetricsTick };

/** Shares one host sampler between every StreamMetrics subscriber. */
export interface MetricsSource {
  /** onError: the tick could not be delivered (the stream ends with the error instead of waiting forever). */
  subscribe(intervalMs: number, listener: (tick: MetricsTick) => void, onError: (err: unknown) => void): () => void;
}

/** Who this node is; changes when the control plane assigns an id. */
export interface NodeIdentitySource {
  nodeId(): string;
  registered(): boolean;
  /** host:port the control plane dials, as registered ("" before registration). */
  managementIp(): string;
  /** The host part, for addresses announced to the control plane (console). Never empty. */
  managementHost(): string;
  labels(): Record<string, string>;
}

export type { Logger } from "../common/logger.ts";
import type { Logger } from "../common/logger.ts";

export interface ServiceDeps {
  hypervisor: Hypervisor;
  events: EventBus;
  metrics: MetricsSource;
  hostIdentity: () => Promise<HostIdentity>;
  /** A current host sample (filesystems for NodeInfo); shared with the metrics hub. */
  hostSample: () => Promise<HostSample>;
  interfaces: () => Promise<InterfaceFacts[]>;
  node: NodeIdentitySource;
  version: string;
  /** Monotonic ms when the daemon started (performance.now() based). */
  startedAtMs: number;
  /** Graceful-stop timeout when a StopVM request names none. */
  defaultStopTimeoutSeconds: number;
  /** Folders client-named disk paths must resolve inside (storage_path, cloud and ISO images). */
  storageRoots: string[];
  /** libvirt network of NICs that name none or name a control plane network id. */
  defaultNetwork: string;
  /** Where InitStoragePool puts a local pool that names no path: <dir>/<pool id>. */
  poolsDir: string;
  /** The node's own state (node id, TLS keys): no storage pool may contain it. */
  stateDir: string;
  /** Where an NFS pool that names no mount point is mounted: <dir>/nfs-<pool id>; default <poolsDir>/../mnt. */
  mountsDir?: string;
  log: Logger;
  /** The guest agents (src/agent); absent: agent RPCs answer UNAVAILABLE. */
  agents?: AgentManager;
  /** Who may use the agent RPCs; absent: loopback only. */
  agentAccess?: AccessPolicy;
  /** Where libvirt writes each VM's QEMU log (GetVMLogs). */
  qemuLogDir?: string;
}
