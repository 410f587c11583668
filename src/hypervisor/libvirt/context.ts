// What every libvirt backend operation shares: the call pool, per-VM locks, options, the host
// facts read at start, the event fan-out and the small caches events keep current.

import { HypervisorError, notFound } from "../errors.ts";
import type { HypervisorEvent, HypervisorEventListener, VmState, VmStatus } from "../types.ts";
import type { VmLocks } from "../vm-lock.ts";
import type { CallPool } from "./call-pool.ts";
import { missingObject } from "./ffi/error-codes.ts";
import { DOMAIN_XML } from "./ffi/flags.ts";
import type { OpName, Ops } from "./ops.ts";
import { createCpuSampler, statusOf, type CpuSampler } from "./status.ts";
import { createParseCache, type ParseCache } from "./parse-cache.ts";
import { createVmSizes, type VmSizes } from "./vm-sizes.ts";
import { isActiveState } from "./state-map.ts";

import type { Logger } from "../../common/logger.ts";
export type { Logger };

export interface Settings {
  uri: string;
  storagePath: string;
  consoleListen: string;
  /** libvirt name of the node's own dir pool at storagePath (pool id DEFAULT_POOL_ID). */
  poolName: string;
  /** Cloud (base) images, searched last for a relative backing file (storage.cloud_images). */
  cloudImagesDir: string;
  /** ISO images, searched after the pools for a CD-ROM's relative ISO name (storage.iso_images). */
  isoImagesDir: string;
  /** How often a graceful stop re-reads the state while it waits. */
  stopPollMs: number;
  /** How long a live detach waits for the guest to release the device. */
  detachWaitMs: number;
  migrationPollMs: number;
  /** Written into every new domain's host CPU definition; see configureCpu. */
  cpuDisabledFeatures: readonly string[];
  /** Folder of the Quantix agent sockets (agent.socket_dir); absent: domains get no agent channel. */
  agentSocketDir?: string;
  /** How network pools' servers are probed before libvirt is asked to reach them. */
  probe?: { timeoutMs?: number; connect?: import("../storage/reachability.ts").Connector };
}

export interface HostProfile {
  driverType: string;
  domainType: "kvm" | "qemu";
  emulator?: string;
  machine?: string;
  uefiLoader?: string;
  hostname: string;
}

export interface LibvirtContext {
  pool: CallPool;
  locks: VmLocks;
  settings: Settings;
  host: HostProfile;
  log: Logger;
  cpu: CpuSampler;
  /** Every domain's definition parsed, while its XML stays the same (parse-cache.ts). */
  parsed: ParseCache;
  /** Each VM's vCPU count and memory as metrics ticks last read them (vm-sizes.ts). */
  sizes: VmSizes;
  listeners: Set<HypervisorEventListener>;
  /** Last state each VM was seen in (events keep it current): the previousState of the next event. */
  known: Map<string, VmState>;
  startedAt: Map<string, Date>;
  /** uuid/alias -> resolvers waiting for libvirt's DEVICE_REMOVED. */
  removals: Map<string, Set<() => void>>;
  connected: boolean;
  disconnectReason?: string;
  closed: boolean;
}

export function createContextBase(pool: CallPool, locks: VmLocks, settings: Settings, host: HostProfile, log: Logger): LibvirtContext {
  return {
    pool,
    locks,
    settings,
    host,
    log,
    cpu: createCpuSampler(),
    parsed: createParseCache(),
    sizes: createVmSizes(),
    listeners: new Set(),
    known: new Map(),
    startedAt: new Map(),
    removals: new Map(),
    connected: true,
    closed: false,
  };
}

export function emit(ctx: LibvirtContext, event: HypervisorEvent): void {
  for (const listener of ctx.listeners) {
    try {
      listener(event);
    } catch (err) {
      ctx.log.warn("event listener threw", err);
    }
  }
}

/** A pool call about one VM: libvirt's "domain not found" becomes the backend's not_found for id. */
export async function vmCall<K extends OpName>(ctx: LibvirtContext, id: string, op: K, ...args: Parameters<Ops[K]>): Promise<Awaited<ReturnType<Ops[K]>>> {
  if (ctx.closed) throw new HypervisorError("unavailable", "the libvirt backend is closed");
  try {
    return await ctx.pool.call(op, ...args);
  } catch (err) {
    if (missingObject(err) === "domain") throw notFound(id);
    throw err;
  }
}

/** The VM's status: spec from the persistent definition, state and figures from the live domain. */
export async function fetchStatus(ctx: LibvirtContext, id: string): Promise<VmStatus> {
  const raw = await vmCall(ctx, id, "domain", id, DOMAIN_XML.INACTIVE);
  return statusOf(raw, ctx.parsed.parse(raw.uuid, raw.xml), ctx.cpu, startedExtras(ctx, id, raw.state));
}

export function startedExtras(ctx: LibvirtContext, id: string, state: number): { startedAt?: Date } {
  if (!isActiveState(state)) return {};
  const at = ctx.startedAt.get(id);
  return at ? { startedAt: at } : {};
}

export function invalidState(id: string, state: VmState, hint: string): HypervisorError {
  return new HypervisorError("invalid_state", `vm ${id} is ${state}; ${hint}`);
}

// qcow2 images start with "QFI\xfb"; anything else is handed to QEMU as raw.
export { formatOf } from "../storage/image-header.ts";
