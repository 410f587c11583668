// Hypervisor model -> wire for what a VM reports: status, snapshots, console, migration progress.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ConsoleInfoResponse,
  ConsoleInfoResponseSchema,
  type MigrationProgress as PMigrationProgress,
  MigrationProgressSchema,
  type SnapshotResponse,
  SnapshotResponseSchema,
  type VMStatusResponse,
  VMStatusResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { ConsoleInfo, MigrationProgress, Snapshot, VmStatus } from "../../hypervisor/types.ts";
import { migrationPhase, powerState, transitionOf } from "./enums.ts";
import { vmSpecToWire } from "./vm-spec.ts";

export const u64 = (n: number | undefined): bigint => BigInt(Math.max(0, Math.round(n ?? 0)));

export function vmStatusToWire(v: VmStatus): VMStatusResponse {
  return create(VMStatusResponseSchema, {
    vmId: v.id,
    name: v.name,
    state: powerState.toWire(v.state),
    resourceUsage: {
      cpuUsagePercent: v.usage.cpuUsagePercent,
      cpuTimeNs: u64(v.usage.cpuTimeNs),
      memoryUsedBytes: u64(v.usage.memoryUsedBytes),
      memoryTotalBytes: u64(v.usage.memoryTotalBytes),
      diskReadBytes: u64(v.usage.diskReadBytes),
      diskWriteBytes: u64(v.usage.diskWriteBytes),
      networkRxBytes: u64(v.usage.networkRxBytes),
      networkTxBytes: u64(v.usage.networkTxBytes),
    },
    startedAt: v.startedAt ? timestampFromDate(v.startedAt) : undefined,
    stateReason: v.stateReason,
    transition: transitionOf(v.state),
    spec: vmSpecToWire(v.spec),
    labels: { ...v.spec.labels },
    createdAt: v.createdAt ? timestampFromDate(v.createdAt) : undefined,
    snapshotCount: v.snapshotCount,
    currentSnapshot: v.currentSnapshot ?? "",
  });
}

export function snapshotToWire(s: Snapshot): SnapshotResponse {
  return create(SnapshotResponseSchema, {
    snapshotId: s.name,
    name: s.name,
    description: s.description,
    createdAt: timestampFromDate(s.createdAt),
    vmState: powerState.toWire(s.vmState),
    parentId: s.parent ?? "",
    vmId: s.vmId,
    current: s.current,
    hasMemory: s.hasMemory,
    quiesced: s.quiesced ?? false,
  });
}

const WILDCARD_LISTENS = new Set(["", "0.0.0.0", "::", "[::]"]);

/**
 * The control plane opens raw TCP to host:port (contract 1.2, GetConsole), so a console that
 * listens on every address is announced at the node's management address. A console bound to
 * one address (loopback included) is announced there: nothing else reaches it.
 */
export function consoleToWire(c: ConsoleInfo, managementHost: string): ConsoleInfoResponse {
  return create(ConsoleInfoResponseSchema, {
    type: c.type === "spice" ? "spice" : "vnc",
    host: WILDCARD_LISTENS.has(c.host) ? managementHost : c.host,
    port: c.port,
    password: c.password ?? "",
    websocketPath: c.websocketPath ?? "",
    websocketPort: c.websocketPort ?? 0,
    tlsPort: c.tlsPort ?? 0,
  });
}

export function migrationProgressToWire(p: MigrationProgress): PMigrationProgress {
  return create(MigrationProgressSchema, {
    vmId: p.vmId,
    percentComplete: Math.round(p.percent),
    dataTransferredBytes: u64(p.dataProcessedBytes),
    dataRemainingBytes: u64(p.dataRemainingBytes),
    phase: migrationPhase.toWire(p.phase),
    error: p.phase === "failed" ? p.message : "",
    dataTotalBytes: u64(p.dataTotalBytes),
    elapsedMs: u64(p.elapsedMs),
    message: p.message,
  });
}
