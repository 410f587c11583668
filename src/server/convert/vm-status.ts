// Hypervisor model -> wire for everything a VM reports: status, snapshots, console, migration
// progress and events.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  type ConsoleInfo as PConsoleInfo,
  ConsoleInfoSchema,
  type MigrationProgress as PMigrationProgress,
  MigrationProgressSchema,
  type NodeEvent,
  NodeEventSchema,
  type Snapshot as PSnapshot,
  SnapshotSchema,
  type VMStatus,
  VMStatusSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { NodeEventRecord } from "../../events/event-bus.ts";
import type { ConsoleInfo, MigrationProgress, Snapshot, VmStatus } from "../../hypervisor/types.ts";
import { consoleType, eventType, migrationPhase, vmState } from "./enums.ts";
import { vmSpecToWire } from "./vm-spec.ts";

const u64 = (n: number) => BigInt(Math.max(0, Math.round(n)));

export function vmStatusToWire(v: VmStatus): VMStatus {
  return create(VMStatusSchema, {
    vmId: v.id,
    name: v.name,
    state: vmState.toWire(v.state),
    stateReason: v.stateReason,
    spec: vmSpecToWire(v.spec),
    usage: {
      cpuUsagePercent: v.usage.cpuUsagePercent,
      memoryUsedBytes: u64(v.usage.memoryUsedBytes),
      memoryTotalBytes: u64(v.usage.memoryTotalBytes),
      diskReadBytes: u64(v.usage.diskReadBytes),
      diskWriteBytes: u64(v.usage.diskWriteBytes),
      networkRxBytes: u64(v.usage.networkRxBytes),
      networkTxBytes: u64(v.usage.networkTxBytes),
      cpuTimeNs: u64(v.usage.cpuTimeNs),
    },
    createdAt: v.createdAt ? timestampFromDate(v.createdAt) : undefined,
    startedAt: v.startedAt ? timestampFromDate(v.startedAt) : undefined,
    snapshotCount: v.snapshotCount,
    currentSnapshot: v.currentSnapshot ?? "",
  });
}

export function snapshotToWire(s: Snapshot): PSnapshot {
  return create(SnapshotSchema, {
    vmId: s.vmId,
    name: s.name,
    description: s.description,
    createdAt: timestampFromDate(s.createdAt),
    parent: s.parent ?? "",
    vmState: vmState.toWire(s.vmState),
    current: s.current,
    hasMemory: s.hasMemory,
  });
}

export function consoleToWire(c: ConsoleInfo): PConsoleInfo {
  return create(ConsoleInfoSchema, {
    type: consoleType.toWire(c.type),
    host: c.host,
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
    phase: migrationPhase.toWire(p.phase),
    percent: Math.round(p.percent),
    dataTotalBytes: u64(p.dataTotalBytes),
    dataProcessedBytes: u64(p.dataProcessedBytes),
    dataRemainingBytes: u64(p.dataRemainingBytes),
    elapsedMs: u64(p.elapsedMs),
    message: p.message,
  });
}

export function eventToWire(e: NodeEventRecord): NodeEvent {
  return create(NodeEventSchema, {
    id: BigInt(e.id),
    timestamp: timestampFromDate(e.timestamp),
    type: eventType.toWire(e.type),
    vmId: e.vmId ?? "",
    vmName: e.vmName ?? "",
    state: e.state ? vmState.toWire(e.state) : 0,
    previousState: e.previousState ? vmState.toWire(e.previousState) : 0,
    message: e.message,
    details: { ...e.details },
  });
}
