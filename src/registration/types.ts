// The registrar's public shapes: what it needs (deps) and what it tells (status).
import type { HostIdentity } from "../telemetry/types.ts";
import type { BackoffOptions, Jitter } from "../common/backoff.ts";
import type { InterfaceMap } from "./management-ip.ts";
import type { HeartbeatFigures } from "./messages.ts";
import type { Encoding, HttpVersion } from "./transport.ts";
import type { Logger } from "../common/logger.ts";
import type { VmState } from "../hypervisor/types.ts";

export type RegistrationPhase = "idle" | "registering" | "registered" | "retrying";

export interface RegistrationStatus {
  registered: boolean;
  nodeId?: string;
  phase: RegistrationPhase;
  lastHeartbeatAt?: Date;
  lastError?: string;
  intervalSecs: number;
  /** The "ip:port" sent as management_ip at the last registration attempt. */
  managementEndpoint?: string;
}

export type RegistrarLogger = Logger;

/** One VM as the control plane is told about it. */
export interface NodeVm {
  /** libvirt UUID. */
  id: string;
  name: string;
  state: VmState;
  /** vCPUs; absent when the source cannot tell cheaply (sent as 0, as the reference does). */
  cpuCores?: number;
  memoryMib?: number;
  /** Host paths of the VM's disk images. */
  diskPaths?: string[];
}

/** A VM appeared or changed state ("present", with its state now), or disappeared ("gone"). */
export type NodeVmChange = { kind: "present"; id: string; name: string; state: VmState } | { kind: "gone"; id: string };

/** The node's VMs as registration needs them: a listing, and a push of every change. */
export interface NodeVmSource {
  list(): Promise<NodeVm[]>;
  /** The listener runs inside the source's event dispatch and must not block; returns the unsubscribe function. */
  onChange(listener: (change: NodeVmChange) => void): () => void;
}

export interface RegistrarDeps {
  address: string;
  caFile?: string;
  encoding?: Encoding;
  httpVersion?: HttpVersion;
  heartbeatIntervalSecs: number;
  /** Configured management address; wins over detection. */
  managementIp?: string;
  /** The API port sent with the management IP; a function when it is known only once listening. */
  grpcPort: number | (() => number);
  /** Configured hostname; wins over the one telemetry reports. */
  hostname?: string;
  labels: Record<string, string>;
  /** Where the node id is kept (node-id file), e.g. /var/lib/limiquantix. */
  stateDir: string;
  /** An id to use instead of the stored one (the control plane's answer still wins). */
  nodeIdOverride?: string;
  collectIdentity: () => Promise<HostIdentity>;
  collectFigures: () => Promise<HeartbeatFigures>;
  /** The VMs reported by SyncNodeVMs, SyncFullState, NotifyVMChange and the state hash. */
  vms: NodeVmSource;
  /** Storage pools in heartbeats, assigned-pool setup, local images; absent: no pools reported. */
  storage?: import("./storage-sync.ts").StorageSync;
  logger: RegistrarLogger;
  now?: () => Date;
  /** Must resolve early (without throwing) when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  interfaces?: () => InterfaceMap;
  onStateChange?: (status: RegistrationStatus) => void;
  backoff?: Partial<BackoffOptions>;
  jitter?: Jitter;
  /** Milliseconds in one interval second; tests shrink it to run heartbeats sub-second. */
  secondMs?: number;
  /** Deadline of one call to the control plane. */
  callTimeoutMs?: number;
}

export interface Registrar {
  start(): void;
  stop(): Promise<void>;
  status(): RegistrationStatus;
}
