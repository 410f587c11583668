// The mock's state and the few helpers every operation shares: the per-VM lock, the single
// place where a VM changes state (console port, counters, event, waiters), and cheap status
// building (specs are frozen and shared, so listing 10,000 VMs copies no spec).

import { HypervisorError, notFound } from "../errors.ts";
import type { HypervisorEvent, HypervisorEventType, VmMetrics, VmSpec, VmState, VmStatus } from "../types.ts";
import type { VmLocks } from "../vm-lock.ts";
import type { ServedConsolePorts } from "./served-console-ports.ts";
import type { Emitter } from "./emitter.ts";
import { type Activity, advanceMetrics, type MetricState, resetCounters } from "./metrics.ts";
import type { MockStorage } from "./storage.ts";
import type { Timers } from "./timers.ts";

export interface MockOptions {
  /** First console port (libvirt's autoport starts at 5900). */
  consolePortBase?: number;
  /** Address consoles listen on when the spec names none (hypervisor.console_listen). */
  consoleListen?: string;
  /**
   * Run a minimal RFB server on 127.0.0.1 at each running VM's VNC port (served-console-ports.ts),
   * as the daemon's --dev does; off, ports are only numbers (tests that check the numbering).
   */
  serveConsoles?: boolean;
  /** How long a guest takes to power off after an ACPI shutdown request. */
  acpiShutdownMs?: number;
  /** How long startVm takes. */
  bootMs?: number;
  /** Time between two migration progress reports. */
  migrationStepMs?: number;
  /** The node's own storage, pool "default", where new images "live" unless a pool is named. */
  storagePath?: string;
  /** Searched last for a backing file named relative. */
  cloudImagesDir?: string;
  /** Searched after the pools for a CD-ROM's ISO named relative. */
  isoImagesDir?: string;
  clock?: () => number;
  random?: () => number;
}

export type ResolvedOptions = Required<Omit<MockOptions, "clock" | "random">>;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  consolePortBase: 5900,
  consoleListen: "127.0.0.1",
  serveConsoles: false,
  acpiShutdownMs: 300,
  bootMs: 50,
  migrationStepMs: 100,
  storagePath: "/var/lib/limiquantix/vms",
  cloudImagesDir: "/var/lib/limiquantix/vms/cloud",
  isoImagesDir: "/var/lib/limiquantix/vms/iso",
};

/** A guest that never answers ACPI, so the stop timeout path can be exercised. */
export const IGNORE_ACPI_LABEL = "mock.limiquantix.io/ignore-acpi";

export interface SnapshotRecord {
  name: string;
  description: string;
  createdAt: number;
  parent?: string;
  vmState: VmState;
  hasMemory: boolean;
  /** The VM's (frozen) spec when the snapshot was taken; revert restores it. */
  spec: VmSpec;
}

export interface MockVm {
  readonly id: string;
  /** Frozen; replaced as a whole by hot-plug and revert. */
  spec: VmSpec;
  /** Frozen copy of what createVm was asked for, to answer a retry idempotently. */
  readonly request: VmSpec;
  state: VmState;
  stateReason: string;
  readonly createdAt: number;
  /** Set while a qemu process exists (running, paused, shutting down, live migrating). */
  startedAt?: number;
  consolePort?: number;
  snapshots: Map<string, SnapshotRecord>;
  currentSnapshot?: string;
  metrics: MetricState;
  /** Bumped by every change a status shows (see changed()); the cached status is for one revision. */
  revision: number;
  /** The last status handed out (frozen) and the revision it shows. */
  status?: VmStatus;
  statusRevision?: number;
  /** Called after every state change and on removal; stopVm waits through these. */
  watchers: Set<() => void>;
  cancelAcpi?: () => void;
  /** Set while a migration runs: ends it (a force stop pulls the plug on its source). */
  abortMigration?: () => void;
  removed: boolean;
}

export interface MockContext {
  vms: Map<string, MockVm>;
  /** name -> id, to refuse a second VM with the same name in O(1). */
  names: Map<string, string>;
  locks: VmLocks;
  timers: Timers;
  ports: ServedConsolePorts;
  events: Emitter;
  now: () => number;
  random: () => number;
  opts: ResolvedOptions;
  storage: MockStorage;
  closed: boolean;
  /** The metrics step every VM's figures were last advanced to by a listing (see listVms). */
  metricsStep?: number;
}

export function assertOpen(ctx: MockContext): void {
  if (ctx.closed) throw new HypervisorError("unavailable", "the mock hypervisor is closed");
}

/** Runs fn under the VM's lock with the VM looked up; unknown ids reject with not_found. */
export function withVm<T>(ctx: MockContext, id: string, fn: (vm: MockVm) => T | Promise<T>): Promise<T> {
  return ctx.locks.run(id, () => {
    assertOpen(ctx);
    const vm = ctx.vms.get(id);
    if (!vm) throw notFound(id);
    return fn(vm);
  });
}

export const invalidState = (vm: MockVm, what: string) => new HypervisorError("invalid_state", `vm ${vm.id} ${what}`);

/** States in which no operation but the one in progress (and force stop) may touch the VM. */
export function refuseBusy(vm: MockVm): void {
  if (vm.state === "migrating") throw invalidState(vm, "is migrating; wait for the migration to finish or cancel it");
  if (vm.state === "shutting_down") throw invalidState(vm, "is shutting down; wait for it to stop or force stop it");
}

export const vcpusOf = (spec: VmSpec) => spec.cpu.sockets * spec.cpu.coresPerSocket * spec.cpu.threadsPerCore;

function activityOf(vm: MockVm): Activity {
  if (vm.startedAt === undefined) return "off";
  return vm.state === "paused" ? "frozen" : "running";
}

export function emitVm(ctx: MockContext, vm: MockVm, type: HypervisorEventType, message: string, details?: Record<string, string>): void {
  const event: HypervisorEvent = { type, vmId: vm.id, vmName: vm.spec.name, message };
  if (details) event.details = details;
  ctx.events.emit(event);
}

/** The one place a VM changes state. Migrating keeps whatever process the VM had; leaving it for stopped (a force stop) ends that process. */
export function setState(ctx: MockContext, vm: MockVm, next: VmState, reason: string, details?: Record<string, string>): void {
  const now = ctx.now();
  advanceVmMetrics(ctx, vm, now);
  const previous = vm.state;
  if (next !== "migrating") {
    const hadProcess = vm.startedAt !== undefined;
    const hasProcess = next === "running" || next === "paused" || next === "shutting_down";
    if (!hadProcess && hasProcess) {
      // Allocate first: running out of ports must leave the VM as it was.
      if (vm.spec.console.type !== "none") vm.consolePort = ctx.ports.allocate(vm.spec.console.type === "vnc" ? { name: vm.spec.name } : undefined);
      vm.startedAt = now;
      resetCounters(vm.metrics, now);
    } else if (hadProcess && !hasProcess) {
      if (vm.consolePort !== undefined) ctx.ports.release(vm.consolePort);
      vm.consolePort = undefined;
      vm.startedAt = undefined;
      // No process, no counters (libvirt reports none for an inactive domain).
      resetCounters(vm.metrics, now);
      vm.cancelAcpi?.();
      vm.cancelAcpi = undefined;
    }
  }
  vm.state = next;
  vm.stateReason = reason;
  changed(vm);
  ctx.events.emit({
    type: "vm_state_changed",
    vmId: vm.id,
    vmName: vm.spec.name,
    state: next,
    previousState: previous,
    message: `vm ${vm.spec.name} is ${next.replace("_", " ")}: ${reason}`,
    ...(details ? { details } : {}),
  });
  notifyWatchers(vm);
}

export function notifyWatchers(vm: MockVm): void {
  for (const watcher of [...vm.watchers]) watcher();
}

/** Takes the VM off this node (delete or completed migration). */
export function removeVm(ctx: MockContext, vm: MockVm): void {
  if (vm.consolePort !== undefined) ctx.ports.release(vm.consolePort);
  vm.consolePort = undefined;
  vm.cancelAcpi?.();
  vm.cancelAcpi = undefined;
  vm.removed = true;
  ctx.vms.delete(vm.id);
  if (ctx.names.get(vm.spec.name) === vm.id) ctx.names.delete(vm.spec.name);
  notifyWatchers(vm);
}

/**
 * Marks a change that statuses show: state, spec, snapshots, process or figures. Every such
 * change goes through here (setState calls it), so an unchanged VM keeps one status object.
 */
export function changed(vm: MockVm): void {
  vm.revision++;
}

/** Brings the VM's figures up to now; a step that moved them is a change. */
export function advanceVmMetrics(ctx: MockContext, vm: MockVm, now: number): void {
  if (advanceMetrics(vm.metrics, now, activityOf(vm), vcpusOf(vm.spec), ctx.random)) changed(vm);
}

export function statusOf(ctx: MockContext, vm: MockVm, now: number): VmStatus {
  advanceVmMetrics(ctx, vm, now);
  return currentStatus(vm);
}

/**
 * The VM's status as of its figures' last step, frozen. While the VM's revision stays the same
 * every caller gets the same object: the server reuses one encoding per object, which keeps
 * ListVMs over thousands of VMs a copy of bytes.
 */
export function currentStatus(vm: MockVm): VmStatus {
  if (vm.status && vm.statusRevision === vm.revision) return vm.status;
  const m = vm.metrics;
  const up = vm.startedAt !== undefined;
  const total = vm.spec.memoryMib * 1024 * 1024;
  const status: VmStatus = Object.freeze({
    id: vm.id,
    name: vm.spec.name,
    state: vm.state,
    stateReason: vm.stateReason,
    spec: vm.spec,
    usage: Object.freeze({
      cpuUsagePercent: up && vm.state !== "paused" ? m.cpuPercent : 0,
      cpuTimeNs: m.cpuTimeNs,
      memoryUsedBytes: up ? Math.round(total * m.memoryFraction) : 0,
      memoryTotalBytes: total,
      diskReadBytes: m.diskReadBytes,
      diskWriteBytes: m.diskWriteBytes,
      networkRxBytes: m.networkRxBytes,
      networkTxBytes: m.networkTxBytes,
    }),
    createdAt: new Date(vm.createdAt),
    startedAt: vm.startedAt === undefined ? undefined : new Date(vm.startedAt),
    snapshotCount: vm.snapshots.size,
    currentSnapshot: vm.currentSnapshot,
  });
  vm.status = status;
  vm.statusRevision = vm.revision;
  return status;
}

export function metricsOf(ctx: MockContext, vm: MockVm, now: number): VmMetrics {
  const status = statusOf(ctx, vm, now);
  const m = vm.metrics;
  return {
    vmId: vm.id,
    name: vm.spec.name,
    state: vm.state,
    cpuUsagePercent: status.usage.cpuUsagePercent,
    cpuTimeNs: m.cpuTimeNs,
    vcpus: vcpusOf(vm.spec),
    memoryUsedBytes: status.usage.memoryUsedBytes,
    memoryTotalBytes: status.usage.memoryTotalBytes,
    diskReadBytes: m.diskReadBytes,
    diskWriteBytes: m.diskWriteBytes,
    diskReadOps: m.diskReadOps,
    diskWriteOps: m.diskWriteOps,
    networkRxBytes: m.networkRxBytes,
    networkTxBytes: m.networkTxBytes,
    networkRxPackets: m.networkRxPackets,
    networkTxPackets: m.networkTxPackets,
  };
}

/** Specs are shared by every status the mock hands out, so nobody may change them in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
