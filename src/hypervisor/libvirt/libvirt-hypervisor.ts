// createLibvirtHypervisor: the production backend. It starts the event Worker (which registers
// libvirt's event loop, so it goes first), then the call Workers, reads the host once (warning
// once when guests will run without KVM), makes sure the node's own storage pool exists, and
// wires every Hypervisor method to its module.

import { HypervisorError } from "../errors.ts";
import { createVmLocks } from "../vm-lock.ts";
import type { Hypervisor } from "../types.ts";
import { outsideRequest } from "../../common/request-signal.ts";
import { createCallPool, type CallPool } from "./call-pool.ts";
import type { Lane } from "./call-rules.ts";
import { createContextBase, emit, type LibvirtContext, type Logger, type Settings, vmCall } from "./context.ts";
import { attachDisk, attachNic, detachDisk, detachNic } from "./devices.ts";
import { mkdir } from "node:fs/promises";
import { posix } from "node:path";
import { changeMedia } from "./media.ts";
import { checkOwnPoolName } from "./pool-rules.ts";
import { destroyPool, getPool, initPool, listPools, ownPoolXml } from "./pools.ts";
import * as volumeOps from "./volume-ops.ts";
import { resizeVolume } from "./volumes.ts";
import { createEventSource, type EventSource } from "./event-source.ts";
import { handleRawEvent, reconcile } from "./events.ts";
import { CPU_FEATURE_NAME } from "./domain-xml/index.ts";
import { DOMAIN_XML } from "./ffi/flags.ts";
import { accelerationWarning, capabilitiesOf, hostProfile, infoOf } from "./host.ts";
import { getConsole, listVms, vmMetrics } from "./inventory.ts";
import * as lifecycle from "./lifecycle.ts";
import { migrateVm } from "./migration.ts";
import type { HostFacts } from "./ops.ts";
import type { RawDomainEvent } from "./protocol.ts";
import { type QemuProcessRoots, qemuRunDir, recordProcessStarts } from "./qemu-process.ts";
import * as snapshots from "./snapshots.ts";
import { checkStorageAccess } from "./storage-access.ts";

export interface LibvirtHypervisorOptions {
  /** e.g. qemu:///system, or test:///default for tests. */
  uri: string;
  /** Where new disk images go (a libvirt dir pool, created when missing). */
  storagePath: string;
  /** VNC/SPICE listen address written into new domains. */
  consoleListen: string;
  /** libvirt name of the node's own pool (pool id "default"); never "default". Default "limiquantix". */
  poolName?: string;
  /** Cloud (base) images folder (storage.cloud_images); default <storagePath>/cloud. */
  cloudImagesDir?: string;
  /** ISO images folder (storage.iso_images); default <storagePath>/iso. */
  isoImagesDir?: string;
  /** Force the domain type (default: kvm when libvirt offers it, else qemu = TCG). */
  domainType?: "kvm" | "qemu";
  /** CPU features turned off on host-passthrough/host-model CPUs of new VMs (hypervisor.cpu_disabled_features). */
  cpuDisabledFeatures?: readonly string[];
  /** agent.socket_dir: every domain defined gets the Quantix agent channel bound in it. */
  agentSocketDir?: string;
  /** Worker entry files; defaults suit both `bun src/main.ts` and the compiled binary. */
  workerPath?: string;
  eventWorkerPath?: string;
  /** Short-lane call Workers (hypervisor.libvirt_workers); default 4. */
  poolSize?: number;
  /** Long-lane call Workers: concurrent migrations, copies, mounts (hypervisor.libvirt_long_workers); default 4. */
  longPoolSize?: number;
  /** Calls that may wait in one lane's queue before RESOURCE_EXHAUSTED (hypervisor.libvirt_queue_limit); default 1024. */
  queueLimit?: number;
  /** Base deadline of one libvirt call, scaled per op by call-rules.ts (hypervisor.libvirt_call_deadline_ms); default 30 s. */
  callDeadlineMs?: number;
  /** Where /proc is (telemetry.proc_root); default /proc. */
  procRoot?: string;
  /** libvirt's pid files of running QEMU domains; default: /run/libvirt/qemu for qemu:///system. */
  qemuRunDir?: string;
  log?: Logger;
  /** How network pools' servers are probed before libvirt is asked to reach them (tests replace the connect). */
  probe?: Settings["probe"];
  stopPollMs?: number;
  detachWaitMs?: number;
  migrationPollMs?: number;
  eventTickMs?: number;
}

const quiet: Logger = { info() {}, warn() {}, debug() {}, error() {} };

export async function createLibvirtHypervisor(opts: LibvirtHypervisorOptions): Promise<Hypervisor> {
  const log = opts.log ?? quiet;
  // Refused at start, not at the first CreateVM.
  const badFeature = opts.cpuDisabledFeatures?.find((f) => !CPU_FEATURE_NAME.test(f));
  if (badFeature !== undefined) {
    throw new HypervisorError(
      "invalid_argument",
      `hypervisor.cpu_disabled_features: ${JSON.stringify(badFeature)} is not a libvirt CPU feature name ([a-z0-9_.-]+)`,
    );
  }
  const settings: Settings = {
    uri: opts.uri,
    storagePath: opts.storagePath,
    consoleListen: opts.consoleListen,
    poolName: opts.poolName ?? "limiquantix",
    cloudImagesDir: opts.cloudImagesDir ?? posix.join(opts.storagePath, "cloud"),
    isoImagesDir: opts.isoImagesDir ?? posix.join(opts.storagePath, "iso"),
    stopPollMs: opts.stopPollMs ?? 250,
    // libvirt's QEMU driver already waits ~5 s for the guest inside the detach call.
    detachWaitMs: opts.detachWaitMs ?? 1000,
    migrationPollMs: opts.migrationPollMs ?? 500,
    cpuDisabledFeatures: [...(opts.cpuDisabledFeatures ?? [])],
    ...(opts.agentSocketDir !== undefined ? { agentSocketDir: opts.agentSocketDir } : {}),
    ...(opts.probe !== undefined ? { probe: opts.probe } : {}),
  };
  checkOwnPoolName(settings.poolName);
  const processRoots: QemuProcessRoots = { procRoot: opts.procRoot ?? "/proc" };
  const runDir = opts.qemuRunDir ?? qemuRunDir(opts.uri);
  if (runDir !== undefined) processRoots.runDir = runDir;
  // Events that arrive before the context exists wait here.
  let ctx: LibvirtContext | undefined;
  const early: RawDomainEvent[] = [];
  let resync: (() => void) | undefined;

  const events: EventSource = await createEventSource({
    uri: opts.uri,
    ...(opts.eventWorkerPath !== undefined ? { workerPath: opts.eventWorkerPath } : {}),
    ...(opts.eventTickMs !== undefined ? { tickMs: opts.eventTickMs } : {}),
    onEvent: (e) => (ctx ? handleRawEvent(ctx, e) : early.push(e)),
    onConnected: (attempt) => {
      if (attempt > 1) resync?.();
    },
    onDisconnected: (reason) => {
      if (!ctx) return;
      ctx.connected = false;
      ctx.disconnectReason = reason;
      log.warn(`lost libvirt at ${opts.uri}: ${reason}; reconnecting`);
      emit(ctx, { type: "node", message: `libvirt at ${opts.uri} is unreachable (${reason}); reconnecting`, details: { libvirt: "disconnected" } });
    },
  });
  let pool: CallPool;
  try {
    pool = await createCallPool({
      uri: opts.uri,
      size: opts.poolSize ?? 4,
      longSize: opts.longPoolSize ?? 4,
      ...(opts.queueLimit !== undefined ? { queueLimit: opts.queueLimit } : {}),
      ...(opts.callDeadlineMs !== undefined ? { callDeadlineMs: opts.callDeadlineMs } : {}),
      ...(opts.workerPath !== undefined ? { workerPath: opts.workerPath } : {}),
    });
  } catch (err) {
    await events.close();
    throw err;
  }
  try {
    const facts = await pool.call("hostFacts");
    const profile = hostProfile(facts);
    if (opts.domainType) profile.domainType = opts.domainType;
    const c = createContextBase(pool, createVmLocks(), settings, profile, log);
    const slow = accelerationWarning(facts, profile);
    if (slow !== undefined) log.warn(slow);
    const own = await pool.call("ensurePool", settings.poolName, settings.storagePath, ownPoolXml(c));
    if (own !== settings.poolName) {
      log.warn(`${settings.storagePath} is already libvirt's storage pool ${own}: it serves as this node's default pool (instead of ${settings.poolName})`);
      settings.poolName = own;
    }
    await checkStorageAccess({ uri: facts.uri, storagePath: settings.storagePath, capabilitiesXml: facts.capabilitiesXml, log });
    // A VM migrated in binds its agent socket here before this node defines or starts anything.
    if (settings.agentSocketDir !== undefined) {
      await mkdir(settings.agentSocketDir, { recursive: true, mode: 0o755 }).catch((err: Error) =>
        log.warn(`cannot create the guest agent socket folder ${settings.agentSocketDir} (agent.socket_dir): ${err.message}; VMs cannot migrate to this node`),
      );
    }
    const domains = await pool.call("domains", DOMAIN_XML.INACTIVE);
    reconcile(c, domains, false);
    await recordProcessStarts(c, domains, processRoots);
    ctx = c;
    for (const e of early.splice(0)) handleRawEvent(c, e);
    resync = () => {
      c.connected = true;
      delete c.disconnectReason;
      pool.retryNow();
      log.info(`libvirt at ${opts.uri} is back; event callbacks re-registered`);
      emit(c, { type: "node", message: `libvirt at ${opts.uri} is reachable again; event callbacks re-registered`, details: { libvirt: "connected" } });
      void catchUp(c, pool, 5, processRoots);
    };
    const backend = backendOf(c, facts, events);
    workersOf.set(backend, { pool, events });
    return backend;
  } catch (err) {
    await pool.close();
    await events.close();
    throw err;
  }
}

const workersOf = new WeakMap<Hypervisor, { pool: CallPool; events: EventSource }>();

/**
 * Test hook: makes one Worker of a libvirt backend throw, as a bug would, so the production
 * crash handling (health, node event, restart, recovery) is what the test exercises.
 */
export function crashWorkerForTest(backend: Hypervisor, which: "event" | { lane: Lane; index?: number }): void {
  const w = workersOf.get(backend);
  if (!w) throw new Error("not a libvirt backend");
  if (which === "event") w.events.crashWorkerForTest();
  else w.pool.crashWorkerForTest(which.lane, which.index ?? 0);
}

/** Test hook: what each lane of call Workers is doing (Workers up, busy, calls queued). */
export function callLanesForTest(backend: Hypervisor): ReturnType<CallPool["lanes"]> {
  const w = workersOf.get(backend);
  if (!w) throw new Error("not a libvirt backend");
  return w.pool.lanes();
}

/** Reports what changed while events could not arrive; retried, since libvirtd may still be starting. */
async function catchUp(ctx: LibvirtContext, pool: CallPool, attempts: number, processRoots: QemuProcessRoots): Promise<void> {
  for (let i = 1; i <= attempts && !ctx.closed; i++) {
    try {
      const domains = await pool.call("domains", DOMAIN_XML.INACTIVE);
      reconcile(ctx, domains, true);
      // Domains started while libvirt was unreachable sent no event to record the start by.
      await recordProcessStarts(ctx, domains, processRoots);
      return;
    } catch (err) {
      if (i === attempts) ctx.log.warn("could not list domains after reconnecting; events missed while libvirt was down are lost", err);
      else await Bun.sleep(500 * i);
    }
  }
}

/** Calls that are not about one VM say "closed" like vmCall does. */
function unlessClosed<T>(ctx: LibvirtContext, fn: () => Promise<T>): Promise<T> {
  if (ctx.closed) return Promise.reject(new HypervisorError("unavailable", "the libvirt backend is closed"));
  return fn();
}

function backendOf(ctx: LibvirtContext, hostFacts: HostFacts, events: EventSource): Hypervisor {
  return {
    backend: "libvirt",
    info: async () => infoOf(hostFacts),
    capabilities: async () => capabilitiesOf(hostFacts, ctx.host),
    healthy: () => {
      if (ctx.closed) return { ok: false, message: "the libvirt backend is closed" };
      if (!ctx.connected || !events.connected) {
        return { ok: false, message: `libvirt at ${ctx.settings.uri} is unreachable (${ctx.disconnectReason ?? "connection lost"}); reconnecting` };
      }
      const noWorker = ctx.pool.unavailableReason();
      return noWorker === undefined ? { ok: true } : { ok: false, message: noWorker };
    },
    createVm: (id, spec) => lifecycle.createVm(ctx, id, spec),
    startVm: (id) => lifecycle.startVm(ctx, id),
    stopVm: (id, timeoutMs) => lifecycle.stopVm(ctx, id, timeoutMs),
    forceStopVm: (id) => lifecycle.forceStopVm(ctx, id),
    rebootVm: (id) => lifecycle.rebootVm(ctx, id),
    pauseVm: (id) => lifecycle.pauseVm(ctx, id),
    resumeVm: (id) => lifecycle.resumeVm(ctx, id),
    deleteVm: (id, o) => lifecycle.deleteVm(ctx, id, o),
    getVm: (id) => lifecycle.getVm(ctx, id),
    listVms: (filter) => listVms(ctx, filter),
    getConsole: (id) => getConsole(ctx, id),
    createSnapshot: (id, o) => snapshots.createSnapshot(ctx, id, o),
    revertSnapshot: (id, name) => snapshots.revertSnapshot(ctx, id, name),
    deleteSnapshot: (id, name) => snapshots.deleteSnapshot(ctx, id, name),
    listSnapshots: (id) => snapshots.listSnapshots(ctx, id),
    qemuAgentCommand: (id, command, timeoutSeconds) => vmCall(ctx, id, "qemuAgentCommand", id, command, timeoutSeconds),
    migrateVm: (id, o, signal) => migrateVm(ctx, id, o, signal),
    attachDisk: (id, disk) => attachDisk(ctx, id, disk),
    detachDisk: (id, diskId) => detachDisk(ctx, id, diskId),
    attachNic: (id, nic) => attachNic(ctx, id, nic),
    detachNic: (id, nicId) => detachNic(ctx, id, nicId),
    changeMedia: (id, cdromId, medium) => changeMedia(ctx, id, cdromId, medium),
    initPool: (def) => unlessClosed(ctx, () => initPool(ctx, def)),
    getPool: (id) => unlessClosed(ctx, () => getPool(ctx, id)),
    listPools: () => unlessClosed(ctx, () => listPools(ctx)),
    resizeVolume: (poolId, volume, bytes) => unlessClosed(ctx, () => resizeVolume(ctx, poolId, volume, bytes)),
    destroyPool: (id) => unlessClosed(ctx, () => destroyPool(ctx, id, (pool) => volumeOps.poolUsers(ctx, pool))),
    listVolumes: (poolId) => unlessClosed(ctx, () => volumeOps.listVolumes(ctx, poolId)),
    createVolume: (poolId, v) => unlessClosed(ctx, () => volumeOps.createVolume(ctx, poolId, v)),
    deleteVolume: (poolId, v) => unlessClosed(ctx, () => volumeOps.deleteVolume(ctx, poolId, v)),
    cloneVolume: (poolId, src, dest) => unlessClosed(ctx, () => volumeOps.cloneVolume(ctx, poolId, src, dest)),
    volumeAttachInfo: (poolId, v) => unlessClosed(ctx, () => volumeOps.volumeAttachInfo(ctx, poolId, v)),
    snapshotVolume: (poolId, v, snap) => unlessClosed(ctx, () => volumeOps.snapshotVolume(ctx, poolId, v, snap)),
    // Shared by every StreamMetrics subscriber (the metrics hub reads once for all): no one
    // client's leaving may cancel it.
    vmMetrics: (ids) => outsideRequest(() => vmMetrics(ctx, ids)),
    onEvent: (listener) => {
      ctx.listeners.add(listener);
      return () => void ctx.listeners.delete(listener);
    },
    close: async () => {
      if (ctx.closed) return;
      ctx.closed = true;
      ctx.listeners.clear();
      await ctx.pool.close();
      await events.close();
    },
  };
}
