// Pure translation from the daemon's own figures to the control plane's NodeService messages.
// Only registration/ and server/ touch generated protobuf types.
import { create } from "@bufbuild/protobuf";
import {
  RegisterNodeRequestSchema,
  UpdateHeartbeatRequestSchema,
  type RegisterNodeRequest,
  type UpdateHeartbeatRequest,
} from "../gen/limiquantix/compute/v1/node_service_pb.ts";
import type { HostIdentity } from "../telemetry/types.ts";

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
const UINT32_MAX = 0xffff_ffff;

/** A non-negative whole number for a uint64 field; undefined, NaN and negatives become 0. */
function u64(value: number | undefined): bigint {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return 0n;
  return BigInt(Math.floor(value));
}

function u32(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(UINT32_MAX, Math.floor(value));
}

function finite(value: number | undefined, min = 0, max = Number.MAX_VALUE): number {
  if (value === undefined || !Number.isFinite(value)) return 0;
  return Math.min(max, Math.max(min, value));
}

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
      frequencyMhz: u64(Math.round(identity.cpu.mhz)),
      features: [...identity.cpu.flags],
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

export function buildHeartbeatRequest(
  nodeId: string,
  figures: HeartbeatFigures,
): UpdateHeartbeatRequest {
  return create(UpdateHeartbeatRequestSchema, {
    nodeId,
    cpuUsagePercent: finite(figures.cpuUsagePercent, 0, 100),
    // The contract counts memory in MiB; whole MiB, rounded down.
    memoryUsedMib: u64(figures.memoryUsedBytes === undefined ? undefined : figures.memoryUsedBytes / MIB),
    memoryTotalMib: u64(
      figures.memoryTotalBytes === undefined ? undefined : figures.memoryTotalBytes / MIB,
    ),
    runningVmCount: u32(figures.runningVmCount),
    diskUsedBytes: u64(figures.diskUsedBytes),
    diskTotalBytes: u64(figures.diskTotalBytes),
    load1m: finite(figures.load1),
    load5m: finite(figures.load5),
    load15m: finite(figures.load15),
  });
}
