// The node's storage as the control plane hears of it: every pool in each heartbeat (its health,
// capacity, mount path, volume count and error), the pools the control plane assigns but the
// node lacks fetched with StoragePoolService/GetPool and initialised (contract 6.6), and the
// cloud images folder reported with ImageService/ScanLocalImages after registration (6.4).
// Nothing here throws into the registration loop: a failure is logged and retried next time.

import { readdir, stat } from "node:fs/promises";
import { posix } from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { ScanLocalImagesRequestSchema, type ImageService, type StoragePoolService } from "../gen/limiquantix/storage/v1/storage_service_pb.ts";
import { readImageInfo } from "../hypervisor/storage/index.ts";
import type { Hypervisor } from "../hypervisor/types.ts";
import type { Logger } from "../common/logger.ts";
import type { StoragePoolReport } from "./messages.ts";
import { localImageOf, poolDefinitionFromCp, poolReportOf, type AssignedPoolFolders } from "./pool-messages.ts";
import { reason } from "./reason.ts";

/** Image files ScanLocalImages reports (the top level of the cloud images folder, contract 6.4). */
const CLOUD_IMAGE_RE = /\.(qcow2|img|raw|iso|vmdk)$/i;

export interface StorageSyncDeps extends AssignedPoolFolders {
  hypervisor: Pick<Hypervisor, "listPools" | "initPool">;
  cloudImagesDir: string;
  log: Logger;
}

export interface StorageSync {
  /** Every pool, freshly listed; on failure the last list (and a warning once). */
  reports(): Promise<StoragePoolReport[]>;
  /** The last list (SyncFullState takes it without waiting). */
  lastReports(): readonly StoragePoolReport[];
  /** Initialises assigned pools the node does not have; one run at a time (a second call while one runs is skipped). */
  ensureAssigned(ids: readonly string[], pools: Client<typeof StoragePoolService>, signal: AbortSignal): Promise<void>;
  /** Reports the cloud images folder; skipped when it is missing or empty. */
  scanImages(nodeId: string, images: Client<typeof ImageService>, signal: AbortSignal): Promise<void>;
}

export function createStorageSync(deps: StorageSyncDeps): StorageSync {
  let last: StoragePoolReport[] = [];
  let listFailing = false;
  let running: Promise<void> | undefined;
  /** Ids whose GetPool or init failed, with when; retried after a minute, not on every beat. */
  const failedAt = new Map<string, number>();

  return {
    async reports() {
      try {
        last = (await deps.hypervisor.listPools()).map(poolReportOf);
        listFailing = false;
      } catch (err) {
        if (!listFailing) deps.log.warn(`cannot list storage pools for the heartbeat: ${reason(err)}; reporting the last list`);
        listFailing = true;
      }
      return last;
    },
    lastReports: () => last,
    ensureAssigned(ids, pools, signal) {
      if (running !== undefined || ids.length === 0) return running ?? Promise.resolve();
      running = (async () => {
        const have = new Set(last.map((p) => p.poolId));
        for (const id of ids) {
          if (have.has(id) || signal.aborted) continue;
          const failed = failedAt.get(id);
          if (failed !== undefined && Date.now() - failed < 60_000) continue;
          try {
            const pool = await pools.getPool({ id }, { signal, timeoutMs: 10_000 });
            const def = poolDefinitionFromCp(pool, deps);
            await deps.hypervisor.initPool(def);
            failedAt.delete(id);
            deps.log.info(`storage pool ${id} (${pool.name || def.type}) assigned by the control plane: initialised`);
          } catch (err) {
            failedAt.set(id, Date.now());
            deps.log.warn(`storage pool ${id} is assigned to this node but could not be set up: ${reason(err)}; retrying in a minute`);
          }
        }
      })().finally(() => {
        running = undefined;
      });
      return running;
    },
    async scanImages(nodeId, images, signal) {
      const dir = deps.cloudImagesDir;
      const names = await readdir(dir).catch(() => [] as string[]);
      const found = [];
      for (const name of names.sort()) {
        if (!CLOUD_IMAGE_RE.test(name)) continue;
        const path = posix.join(dir, name);
        const st = await stat(path).catch(() => undefined);
        if (!st?.isFile()) continue;
        const info = name.toLowerCase().endsWith(".qcow2") ? await readImageInfo(path) : undefined;
        found.push(localImageOf({ path, sizeBytes: st.size, virtualSizeBytes: info?.virtualSize ?? 0, modifiedAt: st.mtime }));
      }
      if (found.length === 0) return;
      try {
        const r = await images.scanLocalImages(create(ScanLocalImagesRequestSchema, { nodeId, images: found }), { signal, timeoutMs: 10_000 });
        deps.log.info(
          `reported ${found.length} local image(s) from ${dir}: ${r.registeredCount} new, ${r.existingCount} known${r.errors.length ? `; errors: ${r.errors.join("; ")}` : ""}`,
        );
      } catch (err) {
        deps.log.warn(`ScanLocalImages failed: ${reason(err)}`);
      }
    },
  };
}
