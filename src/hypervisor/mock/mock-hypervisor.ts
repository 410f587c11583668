// The in-memory hypervisor `--dev` runs: real state, libvirt's state machine and error kinds,
// moving metrics and events, no host access. Every state change runs under the per-VM lock.

import { VERSION } from "../../version.ts";
import { notFound } from "../errors.ts";
import type { Capabilities, ConsoleInfo, Hypervisor, HypervisorInfo, ListFilter, VmMetrics, VmStatus } from "../types.ts";
import { LIMITS } from "../validation.ts";
import { createVmLocks } from "../vm-lock.ts";
import { createPortAllocator } from "./console-ports.ts";
import { createServedConsolePorts } from "./served-console-ports.ts";
import {
  advanceVmMetrics,
  assertOpen,
  changed,
  currentStatus,
  DEFAULT_OPTIONS,
  invalidState,
  metricsOf,
  type MockContext,
  type MockOptions,
  type MockVm,
  notifyWatchers,
  statusOf,
  withVm,
} from "./context.ts";
import { metricsStep } from "./metrics.ts";
import { createEmitter } from "./emitter.ts";
import { attachDisk, attachNic, changeMedia, detachDisk, detachNic } from "./hot-plug.ts";
import * as storage from "./storage.ts";
import { createMockStorage } from "./storage.ts";
import * as lifecycle from "./lifecycle.ts";
import { migrateVm } from "./migration.ts";
import { createSnapshot, deleteSnapshot, listSnapshots, revertSnapshot } from "./snapshots.ts";
import { createTimers } from "./timers.ts";

function matches(vm: MockVm, labels: [string, string][], states: Set<string> | undefined): boolean {
  if (states && !states.has(vm.state)) return false;
  for (const [k, v] of labels) if (vm.spec.labels[k] !== v) return false;
  return true;
}

export function createMockHypervisor(options: MockOptions = {}): Hypervisor {
  const { clock, random, ...rest } = options;
  const opts = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) Object.assign(opts, { [k]: v });
  const ctx: MockContext = {
    vms: new Map(),
    names: new Map(),
    locks: createVmLocks(),
    timers: createTimers(),
    ports: createServedConsolePorts(createPortAllocator(opts.consolePortBase), { serve: opts.serveConsoles }),
    events: createEmitter(),
    now: clock ?? Date.now,
    random: random ?? Math.random,
    opts,
    storage: createMockStorage(opts.storagePath),
    closed: false,
  };

  return {
    backend: "mock",

    async info(): Promise<HypervisorInfo> {
      return { backend: "mock", name: "mock", version: VERSION, uri: "mock:///default" };
    },

    async capabilities(): Promise<Capabilities> {
      return {
        liveMigration: true,
        snapshots: true,
        hotPlug: true,
        gpuPassthrough: true,
        maxVcpus: LIMITS.vcpusMax,
        maxMemoryBytes: LIMITS.memoryMibMax * 1024 * 1024,
        diskFormats: ["qcow2", "raw"],
        uefi: true,
        hardwareAcceleration: true,
        domainType: "mock",
      };
    },

    healthy() {
      return ctx.closed ? { ok: false, message: "the mock hypervisor is closed" } : { ok: true };
    },

    createVm: (id, spec) => lifecycle.createVm(ctx, id, spec),
    startVm: (id) => lifecycle.startVm(ctx, id),
    stopVm: (id, timeoutMs) => lifecycle.stopVm(ctx, id, timeoutMs),
    forceStopVm: (id) => lifecycle.forceStopVm(ctx, id),
    rebootVm: (id) => lifecycle.rebootVm(ctx, id),
    pauseVm: (id) => lifecycle.pauseVm(ctx, id),
    resumeVm: (id) => lifecycle.resumeVm(ctx, id),
    deleteVm: (id, o) => lifecycle.deleteVm(ctx, id, o),

    // Reads need no lock: each VM's state changes atomically between two awaits.
    async getVm(id) {
      assertOpen(ctx);
      const vm = ctx.vms.get(id);
      if (!vm) throw notFound(id);
      return statusOf(ctx, vm, ctx.now());
    },

    async listVms(filter: ListFilter = {}): Promise<VmStatus[]> {
      assertOpen(ctx);
      const labels = Object.entries(filter.labelSelector ?? {});
      const states = filter.states?.length ? new Set<string>(filter.states) : undefined;
      // Once a listing has brought every VM's figures to this step, later ones in the same step
      // have nothing to advance (new and restarted VMs start their figures at their own time),
      // so they only collect the cached statuses.
      const step = metricsStep(ctx.now());
      const advance = ctx.metricsStep !== step;
      const out: VmStatus[] = [];
      for (const vm of ctx.vms.values()) {
        if (advance) advanceVmMetrics(ctx, vm, step);
        if (matches(vm, labels, states)) out.push(currentStatus(vm));
      }
      ctx.metricsStep = step;
      return out;
    },

    getConsole(id): Promise<ConsoleInfo> {
      return withVm(ctx, id, (vm) => {
        const console = vm.spec.console;
        if (console.type === "none") throw invalidState(vm, "has no console (console type is none)");
        if (vm.consolePort === undefined) throw invalidState(vm, "is not running; start it to get a console");
        // With serveConsoles, someone is about to connect: the console server starts now.
        const served = ctx.ports.serve(vm.consolePort);
        if (served !== vm.consolePort) {
          vm.consolePort = served;
          changed(vm);
        }
        const info: ConsoleInfo = { type: console.type, host: console.listen ?? opts.consoleListen, port: vm.consolePort };
        if (console.password) info.password = console.password;
        return info;
      });
    },

    createSnapshot: (id, o) => createSnapshot(ctx, id, o),
    revertSnapshot: (id, name) => revertSnapshot(ctx, id, name),
    deleteSnapshot: (id, name) => deleteSnapshot(ctx, id, name),
    listSnapshots: (id) => listSnapshots(ctx, id),

    migrateVm: (id, o, signal) => migrateVm(ctx, id, o, signal),

    attachDisk: (id, disk) => attachDisk(ctx, id, disk),
    detachDisk: (id, diskId) => detachDisk(ctx, id, diskId),
    attachNic: (id, nic) => attachNic(ctx, id, nic),
    detachNic: (id, nicId) => detachNic(ctx, id, nicId),
    changeMedia: (id, cdromId, medium) => changeMedia(ctx, id, cdromId, medium),

    initPool: (def) => storage.initPool(ctx, def),
    getPool: (id) => storage.getPool(ctx, id),
    listPools: () => storage.listPools(ctx),
    resizeVolume: (poolId, volume, bytes) => storage.resizeVolume(ctx, poolId, volume, bytes),
    destroyPool: (id) => storage.destroyPool(ctx, id),
    listVolumes: (poolId) => storage.listVolumes(ctx, poolId),
    createVolume: (poolId, v) => storage.createVolume(ctx, poolId, v),
    deleteVolume: (poolId, v) => storage.deleteVolume(ctx, poolId, v),
    cloneVolume: (poolId, src, dest) => storage.cloneVolume(ctx, poolId, src, dest),
    volumeAttachInfo: (poolId, v) => storage.volumeAttachInfo(ctx, poolId, v),
    snapshotVolume: (poolId, v, snap) => storage.snapshotVolume(ctx, poolId, v, snap),

    async vmMetrics(ids?: string[]): Promise<VmMetrics[]> {
      assertOpen(ctx);
      const now = ctx.now();
      const out: VmMetrics[] = [];
      if (ids) {
        // A VM deleted between the caller's listing and this call is simply absent.
        for (const id of ids) {
          const vm = ctx.vms.get(id);
          if (vm) out.push(metricsOf(ctx, vm, now));
        }
      } else {
        for (const vm of ctx.vms.values()) out.push(metricsOf(ctx, vm, now));
      }
      return out;
    },

    onEvent: (listener) => ctx.events.on(listener),

    async close() {
      if (ctx.closed) return;
      ctx.closed = true;
      ctx.timers.clear();
      ctx.ports.closeAll();
      // stopVm waiters and migrations notice `closed` and settle.
      for (const vm of ctx.vms.values()) notifyWatchers(vm);
    },
  };
}
