// Pure translation from the daemon's own figures to the control plane's NodeService messages.
// Only registration/ and server/ touch generated protobuf types.
import { create } from "@bufbuild/protobuf";
import {
  RegisterNodeRequestSchema,
  StoragePoolStatusReport_HealthStatus as Health,
  StoragePoolStatusReportSchema,
  UpdateHeartbeatRequestSchema,
  type RegisterNodeRequest,
  type StoragePoolStatusReport,
  type UpdateHeartbeatRequest,
} from "../gen/limiquantix/compute/v1/node_service_pb.ts";
import type { HostIdentity } from "../telemetry/types.ts";
import { finite, u32, u64, unixSeconds } from "./wire-numbers.ts";

/**
 * Live figures for one heartbeat, from telemetry and the backend. A figure that could not be
 * read stays undefined here; proto3 scalars have no presence, so the wire can only carry it as 0.
 */
export interface HeartbeatFigures {
  /** 0-100; undefined on telemetry's first sample. */
  cpuUsagePercent?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  runningVmCount?: number;
  diskUsedBytes?: number;
  diskTotalBytes?: number;
  load1?: number;
  load5?: number;
  load15?: number;
}

const MIB = 1024 * 1024;

export interface RegisterInput {
  identity: HostIdentity;
  /** "ip:port" the control plane dials back. */
  managementEndpoint: string;
  labels: Record<string, string>;
}

export function buildRegisterRequest(input: RegisterInput): RegisterNodeRequest {
  const { identity } = input;
  return create(RegisterNodeRequestSchema, {
    hostname: identity.hostname,
    managementIp: input.managementEndpoint,
    labels: { ...input.labels },
    role: { compute: true, storage: false, controlPlane: false },
    cpuInfo: {
      model: identity.cpu.model,
      sockets: u32(identity.cpu.sockets),
      coresPerSocket: u32(identity.cpu.coresPerSocket),
      threadsPerCore: u32(identity.cpu.threadsPerCore),
      totalThreads: u32(identity.cpu.totalThreads),
      frequencyMhz: u64(identity.cpu.mhz === undefined ? undefined : Math.round(identity.cpu.mhz)),
      features: [...(identity.cpu.flags ?? [])],
    },
    memoryInfo: {
      totalBytes: u64(identity.memory.totalBytes),
      // What VMs can be given right now: the kernel's MemAvailable at registration time.
      allocatableBytes: u64(identity.memory.availableBytes),
      hugePages: {
        pages2mbTotal: u64(identity.memory.hugepages2mTotal),
        pages2mbFree: u64(identity.memory.hugepages2mFree),
        pages1gbTotal: u64(identity.memory.hugepages1gTotal),
        pages1gbFree: u64(identity.memory.hugepages1gFree),
      },
    },
  });
}

export type PoolHealth = "unknown" | "healthy" | "degraded" | "error" | "unmounted";

/** One storage pool as this node sees it, for the heartbeat and SyncFullState. */
export interface StoragePoolReport {
  /** The control plane's pool id for pools it pushed; the node's own name otherwise. */
  poolId: string;
  health: PoolHealth;
  totalBytes?: number;
  usedBytes?: number;
  availableBytes?: number;
  /** Mount path, else device path. */
  mountPath?: string;
  volumeCount?: number;
  errorMessage?: string;
  lastMountAt?: Date;
}

const healthValue: Record<PoolHealth, Health> = {
  unknown: Health.HEALTH_UNKNOWN,
  healthy: Health.HEALTH_HEALTHY,
  degraded: Health.HEALTH_DEGRADED,
  error: Health.HEALTH_ERROR,
  unmounted: Health.HEALTH_UNMOUNTED,
};

export function buildStoragePoolReport(pool: StoragePoolReport): StoragePoolStatusReport {
  return create(StoragePoolStatusReportSchema, {
    poolId: pool.poolId,
    health: healthValue[pool.health],
    totalBytes: u64(pool.totalBytes),
    usedBytes: u64(pool.usedBytes),
    availableBytes: u64(pool.availableBytes),
    mountPath: pool.mountPath ?? "",
    volumeCount: u32(pool.volumeCount),
    errorMessage: pool.errorMessage ?? "",
    lastMountUnix: pool.lastMountAt === undefined ? 0n : unixSeconds(pool.lastMountAt),
  });
}

/** What the heartbeat says about the node's VMs and pools, besides the host figures. */
export interface HeartbeatState {
  /** stateHash() of the VMs the node reports (contract 6.5). */
  stateHash: string;
  storagePools: readonly StoragePoolReport[];
}

export function buildHeartbeatRequest(nodeId: string, figures: HeartbeatFigures, state: HeartbeatState): UpdateHeartbeatRequest {
  return create(UpdateHeartbeatRequestSchema, {
    nodeId,
    cpuUsagePercent: finite(figures.cpuUsagePercent, 0, 100),
    // The contract counts memory in MiB; whole MiB, rounded down.
    memoryUsedMib: u64(figures.memoryUsedBytes === undefined ? undefined : figures.memoryUsedBytes / MIB),
    memoryTotalMib: u64(figures.memoryTotalBytes === undefined ? undefined : figures.memoryTotalBytes / MIB),
    runningVmCount: u32(figures.runningVmCount),
    diskUsedBytes: u64(figures.diskUsedBytes),
    diskTotalBytes: u64(figures.diskTotalBytes),
    load1m: finite(figures.load1),
    load5m: finite(figures.load5),
    load15m: finite(figures.load15),
    storagePools: state.storagePools.map(buildStoragePoolReport),
    stateHash: state.stateHash,
  });
}
