// Storage pool look-ups shared by the create form, the VM page and the storage page.

import { call } from "../api.ts";
import { h } from "../dom.ts";

export interface Pool {
  poolId: string;
  name?: string;
  type?: string;
  mountPath?: string;
  totalBytes?: string;
  usedBytes?: string;
  availableBytes?: string;
  volumeCount?: number;
  active?: boolean;
  errorMessage?: string;
}

export interface PoolFile {
  name: string;
  path: string;
  isDirectory?: boolean;
  sizeBytes?: string;
  modifiedAt?: string;
  fileType?: string;
  permissions?: string;
}

export async function listPools(): Promise<Pool[]> {
  return (await call<{ pools?: Pool[] }>("ListStoragePools", {})).pools ?? [];
}

export async function listFiles(poolId: string, path = ""): Promise<PoolFile[]> {
  return (await call<{ entries?: PoolFile[] }>("ListStoragePoolFiles", { poolId, path })).entries ?? [];
}

/** ISO images in a pool's top folder and its first-level folders (iso/, images/...). */
export async function listIsos(pool: Pool): Promise<{ label: string; path: string }[]> {
  const top = await listFiles(pool.poolId).catch(() => []);
  const nested = await Promise.all(top.filter((f) => f.isDirectory).map((d) => listFiles(pool.poolId, d.path).catch(() => [])));
  return [...top, ...nested.flat()]
    .filter((f) => !f.isDirectory && /\.iso$/i.test(f.name))
    .map((f) => ({
      label: `${pool.name || pool.poolId}: ${f.path}`,
      path: pool.mountPath ? `${pool.mountPath.replace(/\/$/, "")}/${f.path.replace(/^\//, "")}` : f.path,
    }));
}

export function select(name: string, options: { value: string; label: string }[], attrs: Record<string, string> = {}): HTMLSelectElement {
  return h("select", { name, ...attrs }, ...options.map((o) => h("option", { value: o.value }, o.label)));
}
