// Storage pools: persistent, autostarted libvirt storage pools named by the pool id (uuid = the
// id when it is a UUID), so they survive daemon and host restarts. libvirt is the registry;
// nothing is cached here. dir for a local directory, netfs for NFS (libvirt mounts it), rbd for
// Ceph (with a libvirt ceph secret made from the keyring), iscsi (plus logical on top for a
// volume group). The pool id "default" is the node's own pool (settings.poolName at
// storagePath), made at start; libvirt's own pool called "default" is not ours and never listed.
//
// Network pools are asked to answer (a TCP connection, 5 s) before libvirt is asked to mount,
// log in or connect, and every libvirt call on them has a deadline: a server that is down is an
// "unavailable" answer in bounded time, never a call that hangs or an API that stops.
//
// Capacity caps: a directory pool cannot enforce one (libvirt reports the filesystem's figures
// and has no field to keep a cap in), so a requested cap is accepted, logged as not enforced,
// and the figures stay the filesystem's. (The control plane never sends one, contract 1.5.)

import { readFile } from "node:fs/promises";
import { HypervisorError } from "../errors.ts";
import { DEFAULT_POOL_ID, type PoolDefinition, type PoolInfo, type PoolType } from "../types.ts";
import type { PoolDir } from "../storage/index.ts";
import { DEFAULT_CEPH_KEYRING, derivedSecretUuid, poolEndpoints } from "../storage/pool-definition.ts";
import { nfsClientProblem, readNfsClientFacts } from "../storage/nfs-client.ts";
import { requireReachable } from "../storage/reachability.ts";
import type { LibvirtContext } from "./context.ts";
import { buildDirPoolXml, parsePoolXml, type ParsedPool } from "./domain-xml/pool-xml.ts";
import { buildSecretXml, keyringKey } from "./domain-xml/secret-xml.ts";
import { POOL_STATE } from "./ffi/flags-storage.ts";
import type { OpName, Ops } from "./ops.ts";
import { chapSecretUsage, helperPoolNames, libvirtPoolName, poolIdOf, poolWishes, samePath, secretUuidOf, validatePoolDefinition } from "./pool-rules.ts";
import type { RawPool } from "./storage-ops.ts";

/**
 * A storage call on the call pool, answered in bounded time (its deadline is the pool's, from
 * call-rules.ts); a deadline passed names what was being done.
 */
export function storageCall<K extends OpName>(ctx: LibvirtContext, what: string, op: K, ...args: Parameters<Ops[K]>): Promise<Awaited<ReturnType<Ops[K]>>> {
  if (ctx.closed) return Promise.reject(new HypervisorError("unavailable", "the libvirt backend is closed"));
  return ctx.pool.call(op, ...args).catch((err: unknown) => {
    if (err instanceof HypervisorError && err.kind === "timeout")
      throw new HypervisorError("timeout", `${what}: ${err.message}; ask again later`, undefined, { cause: err });
    throw err;
  });
}

export function ownPoolXml(ctx: LibvirtContext): string {
  return buildDirPoolXml({ name: ctx.settings.poolName, path: ctx.settings.storagePath });
}

const typeOfLibvirt: Record<string, PoolType> = { dir: "dir", netfs: "netfs", rbd: "rbd", iscsi: "iscsi", logical: "iscsi" };

function sourceText(p: ParsedPool): string | undefined {
  const hosts = (p.hosts ?? []).map((h) => (h.port ? `${h.name}:${h.port}` : h.name)).join(",");
  switch (p.type) {
    case "netfs":
      return `${hosts}:${p.sourceDir ?? ""}`;
    case "rbd":
      return `${hosts}/${p.sourceName ?? ""}`;
    case "iscsi":
      return `${hosts}/${p.devices?.[0] ?? ""}`;
    case "logical":
      return p.devices?.join(",");
    default:
      return undefined;
  }
}

/** PoolInfo of a raw pool; undefined for pools that are not ours to show (libvirt's "default", helpers). */
export function poolInfoOf(ctx: LibvirtContext, raw: RawPool): PoolInfo | undefined {
  const id = poolIdOf(raw.name, ctx.settings.poolName);
  if (id === undefined) return undefined;
  const parsed = raw.parsed ?? parsePoolXml(raw.xml);
  const type = typeOfLibvirt[parsed.type];
  if (type === undefined) return undefined;
  const active = raw.state === POOL_STATE.RUNNING || raw.state === POOL_STATE.DEGRADED;
  if (raw.refreshError !== undefined)
    ctx.log.warn(`storage pool ${id}: refresh failed (${raw.refreshError}); libvirt reports it ${active ? "active" : "inactive"}`);
  const info: PoolInfo = {
    id,
    type,
    // Files live at the target of dir and netfs pools; an iSCSI or logical target is a device folder.
    path: parsed.type === "dir" || parsed.type === "netfs" ? (parsed.targetPath ?? "") : "",
    active,
    totalBytes: raw.capacity,
    availableBytes: raw.available,
    // As the contract computes it; libvirt's allocation leaves out blocks reserved for root.
    usedBytes: Math.max(0, raw.capacity - raw.available),
    volumeCount: raw.volumeCount ?? 0,
  };
  if (parsed.type === "iscsi") info.devicePath = parsed.targetPath ?? "/dev/disk/by-path";
  if (parsed.type === "logical") info.devicePath = parsed.targetPath ?? `/dev/${parsed.sourceName ?? ""}`;
  if (parsed.type === "rbd" && parsed.sourceName !== undefined) info.rbdPool = parsed.sourceName;
  const source = sourceText(parsed);
  if (source !== undefined) info.source = source;
  const error =
    raw.refreshError ??
    (active
      ? undefined
      : raw.state === POOL_STATE.INACCESSIBLE
        ? "libvirt reports the pool inaccessible"
        : "the pool is not started (libvirt could not start it)");
  if (error !== undefined) info.error = error;
  return info;
}

/**
 * Every pool of ours. Each heartbeat lists them all (contract 6.3): a local pool is rescanned only
 * when its folder changed or its last rescan is old (pool-rescan.ts); capacity stays current.
 */
export async function listPools(ctx: LibvirtContext): Promise<PoolInfo[]> {
  const raws = await storageCall(ctx, "listing the storage pools", "pools", "changed");
  return raws
    .map((r) => poolInfoOf(ctx, r))
    .filter((p): p is PoolInfo => p !== undefined)
    .sort((a, b) => (a.id === DEFAULT_POOL_ID ? -1 : b.id === DEFAULT_POOL_ID ? 1 : a.id.localeCompare(b.id)));
}

export function poolNotFound(id: string): HypervisorError {
  return new HypervisorError("not_found", `storage pool ${id} not found on this node; create it with InitStoragePool`, "pool_id");
}

export async function getPool(ctx: LibvirtContext, id: string): Promise<PoolInfo> {
  // The own pool's libvirt name is not an id of its own (it is "default"), nor is libvirt's pool named default.
  const ownName = id === ctx.settings.poolName;
  if (typeof id !== "string" || id === "" || ownName || id.includes("~")) throw poolNotFound(String(id));
  const raw = await storageCall(ctx, `reading storage pool ${id}`, "pool", libvirtPoolName(id, ctx.settings.poolName), true);
  const info = raw && poolInfoOf(ctx, raw);
  if (!info) throw poolNotFound(id);
  return info;
}

/** Every file-based pool's id and directory (dir and netfs), for placing disks (no refresh: cheap). */
export async function poolDirs(ctx: LibvirtContext): Promise<PoolDir[]> {
  const raws = await storageCall(ctx, "listing the storage pools", "pools", false);
  const dirs: PoolDir[] = [];
  for (const raw of raws) {
    const id = poolIdOf(raw.name, ctx.settings.poolName);
    if (id === undefined) continue;
    const parsed = raw.parsed ?? parsePoolXml(raw.xml);
    const fileBased = parsed.type === "dir" || parsed.type === "netfs";
    if (fileBased && parsed.targetPath !== undefined) dirs.push({ id, path: parsed.targetPath });
  }
  // The own pool is remade when missing (createVolume ensures it): it is always a place.
  if (!dirs.some((d) => d.id === DEFAULT_POOL_ID)) dirs.unshift({ id: DEFAULT_POOL_ID, path: ctx.settings.storagePath });
  return dirs;
}

/** The Ceph key (base64) from the keyring, as bytes for virSecretSetValue; undefined when none is needed. */
async function cephKey(def: Extract<PoolDefinition, { type: "rbd" }>): Promise<Uint8Array | undefined> {
  const path = def.ceph.keyringPath || DEFAULT_CEPH_KEYRING;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    // With a secret uuid of its own, libvirt may already hold the key.
    if (def.ceph.secretUuid !== undefined) return undefined;
    throw new HypervisorError(
      "invalid_state",
      `config.ceph.keyring_path: cannot read the Ceph keyring ${path} (${(err as NodeJS.ErrnoException).code ?? "error"}); copy client.${def.ceph.user}'s keyring there`,
      "config.ceph.keyring_path",
    );
  }
  const key = keyringKey(text);
  if (key === undefined) throw new HypervisorError("invalid_state", `config.ceph.keyring_path: ${path} has no "key = ..." line`, "config.ceph.keyring_path");
  return Uint8Array.from(Buffer.from(key, "base64"));
}

async function secretFor(def: PoolDefinition): Promise<{ uuid: string; xml: string; value?: Uint8Array } | undefined> {
  const uuid = secretUuidOf(def);
  if (uuid === undefined) return undefined;
  if (def.type === "rbd") {
    const value = await cephKey(def);
    const xml = buildSecretXml({
      uuid,
      description: `Ceph key of client.${def.ceph.user} for storage pool ${def.id}`,
      usage: { type: "ceph", name: `client.${def.ceph.user} secret for ${def.id}` },
    });
    return value === undefined ? { uuid, xml } : { uuid, xml, value };
  }
  if (def.type === "iscsi" && def.iscsi.chap) {
    const xml = buildSecretXml({
      uuid,
      description: `CHAP password of ${def.iscsi.chap.user} for storage pool ${def.id}`,
      usage: { type: "iscsi", target: chapSecretUsage(def.id) },
    });
    return { uuid, xml, value: new TextEncoder().encode(def.iscsi.chap.password) };
  }
  return undefined;
}

/** libvirt's words for a pool type it was built without, as a precondition of this host. */
function explainMissingBackend(err: unknown, type: string): never {
  if (err instanceof HypervisorError && /missing backend|no storage backend|not supported/i.test(err.message)) {
    const pkg =
      type === "rbd"
        ? "libvirt-daemon-driver-storage-rbd"
        : type === "iscsi"
          ? "libvirt-daemon-driver-storage-iscsi and open-iscsi"
          : "libvirt-daemon-driver-storage";
    throw new HypervisorError("unsupported", `this host's libvirt cannot serve ${type} pools (${err.message}); install ${pkg}`, "type");
  }
  throw err;
}

export async function initPool(ctx: LibvirtContext, def: PoolDefinition): Promise<PoolInfo> {
  const own = ctx.settings.poolName;
  if (def?.id === DEFAULT_POOL_ID) {
    if (def.type !== "dir" || typeof def.path !== "string" || !samePath(def.path, ctx.settings.storagePath)) {
      throw new HypervisorError(
        "already_exists",
        `storage pool ${DEFAULT_POOL_ID} is this node's own storage at ${ctx.settings.storagePath} (hypervisor.storage_path), not ${def.type === "dir" ? String(def.path) : `a ${def.type} pool`}; ` +
          `use another pool id, or change hypervisor.storage_path and restart the daemon`,
        "config.local.path",
      );
    }
    const found = await storageCall(ctx, "making the node's own storage pool", "ensurePool", own, ctx.settings.storagePath, ownPoolXml(ctx));
    if (found !== own) ctx.settings.poolName = found;
    return getPool(ctx, DEFAULT_POOL_ID);
  }
  validatePoolDefinition(def, own);
  const reach = poolEndpoints(def);
  const wishes = poolWishes(def);
  const secret = await secretFor(def);
  // Adopting a pool that is already up needs no server; only asking libvirt to reach it does.
  const existing = await storageCall(ctx, `reading storage pool ${def.id}`, "pool", def.id, false);
  const up = existing !== null && (existing.state === POOL_STATE.RUNNING || existing.state === POOL_STATE.DEGRADED);
  if (reach && !up) await requireReachable(reach.what, reach.endpoints, { ...(ctx.settings.probe ?? {}), field: "config" });
  // The QEMU driver's libvirtd mounts on this host, with this kernel (the test driver mounts nothing).
  if (def.type === "netfs" && !up && ctx.host.driverType === "QEMU") {
    const problem = nfsClientProblem(await readNfsClientFacts());
    if (problem) throw new HypervisorError("unsupported", `cannot mount NFS pool ${def.id}: ${problem}`, "type");
  }
  const what = `initialising ${def.type} storage pool ${def.id}`;
  const { pool, created } = await storageCall(ctx, what, "initPools", wishes, own, secret).catch((err) => explainMissingBackend(err, def.type));
  if (created) ctx.log.info(`storage pool ${def.id} defined (${def.type}, persistent, autostarted)`);
  if (def.type === "dir" && def.capacityBytes !== undefined && def.capacityBytes > 0) {
    ctx.log.warn(
      `storage pool ${def.id}: a capacity of ${def.capacityBytes} bytes was asked for, but a directory pool cannot enforce one; ` +
        `it reports and offers its filesystem's space`,
    );
  }
  const info = poolInfoOf(ctx, pool);
  if (!info) throw poolNotFound(def.id);
  return info;
}

/** The pool's definition, as read from libvirt (to find its helper pools and secret). */
async function definitionOf(ctx: LibvirtContext, id: string): Promise<ParsedPool> {
  const raw = await storageCall(ctx, `reading storage pool ${id}`, "pool", libvirtPoolName(id, ctx.settings.poolName), false);
  if (raw === null || poolIdOf(raw.name, ctx.settings.poolName) === undefined) throw poolNotFound(id);
  return parsePoolXml(raw.xml);
}

/**
 * Stops and undefines the pool (and the iSCSI pool under its volume group, and the secret the
 * node made for it). `users`: the VMs with a disk in it, found by the caller; any is a refusal.
 */
export async function destroyPool(ctx: LibvirtContext, id: string, users: (pool: PoolInfo) => Promise<string[]>): Promise<void> {
  if (id === DEFAULT_POOL_ID) {
    throw new HypervisorError(
      "invalid_state",
      `storage pool ${DEFAULT_POOL_ID} is this node's own storage (hypervisor.storage_path); it cannot be destroyed`,
      "pool_id",
    );
  }
  const pool = await getPool(ctx, id);
  const inUse = await users(pool);
  if (inUse.length > 0) {
    throw new HypervisorError("invalid_state", `storage pool ${id} holds disks of ${inUse.join(", ")}; delete those vms or their disks first`, "pool_id");
  }
  const parsed = await definitionOf(ctx, id);
  // Our own secrets only: one the caller named (secret_uuid) may serve other pools.
  const derived = parsed.auth ? derivedSecretUuid(id, parsed.auth.username) : undefined;
  const ours = parsed.type === "iscsi" || parsed.auth?.secretUuid === derived ? derived : undefined;
  const names = [id, ...helperPoolNames(id)];
  await storageCall(ctx, `destroying storage pool ${id}`, "destroyPools", names, ours);
  ctx.log.info(`storage pool ${id} destroyed (undefined in libvirt; its data stays)`);
}
