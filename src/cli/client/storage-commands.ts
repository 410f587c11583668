// `pool list|info|init|files` and `volume resize`: the node's storage pools (where disk images
// and ISOs live) and the volumes in them.

import { defineCommand } from "citty";
import {
  ListStoragePoolFilesResponseSchema,
  ListStoragePoolsResponseSchema,
  ResizeVolumeResponseSchema,
  type StoragePoolFileEntry,
  type StoragePoolInfoResponse,
  StoragePoolInfoResponseSchema,
  StoragePoolType,
  StoragePoolTypeSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import { runClient } from "./failures.ts";
import { bytes, enumLabel, fields, jsonText, parseSize, table } from "./format.ts";

const GIB = 1024 ** 3;

const poolArg = { pool: { type: "positional", description: "Storage pool id (pool list shows them; the node's own storage is default)", required: true } } as const;

const typeOf = (p: StoragePoolInfoResponse) => enumLabel(StoragePoolTypeSchema, p.type);
const locationOf = (p: StoragePoolInfoResponse) => p.mountPath || p.devicePath || p.rbdPool || "-";
const usedOf = (p: StoragePoolInfoResponse) => (p.totalBytes > 0n ? `${bytes(p.usedBytes)} of ${bytes(p.totalBytes)}` : "-");

export function poolTable(pools: StoragePoolInfoResponse[]): string {
  return table(
    ["ID", "TYPE", "ACTIVE", "VOLUMES", "USED", "AVAILABLE", "PATH"],
    pools.map((p) => [p.poolId, typeOf(p), p.active ? "yes" : "no", String(p.volumeCount), usedOf(p), bytes(p.availableBytes), locationOf(p)]),
  );
}

export function poolDetails(p: StoragePoolInfoResponse): string {
  return fields([
    ["id", p.poolId],
    ["type", typeOf(p)],
    ["active", p.active ? "yes" : "no"],
    ["path", locationOf(p)],
    ["volumes", String(p.volumeCount)],
    ["used", usedOf(p)],
    ["available", bytes(p.availableBytes)],
  ]);
}

/** Directories first with a trailing slash, as the daemon orders them; paths are what --iso takes. */
export function filesTable(entries: StoragePoolFileEntry[]): string {
  return table(
    ["PATH", "SIZE", "MODIFIED", "MODE"],
    entries.map((e) => [e.isDirectory ? `${e.path}/` : e.path, e.isDirectory ? "-" : bytes(e.sizeBytes), e.modifiedAt || "-", e.permissions || "-"]),
  );
}

/** A size flag in bytes: 20G, 512M. */
export function sizeFlag(flag: string, text: string | undefined): bigint {
  const size = text === undefined ? undefined : parseSize(text);
  if (size === undefined || size === 0) throw new UsageError(`--${flag} ${text === undefined ? "is required" : `${JSON.stringify(text)}: give a size like 20G or 512M`}`);
  return BigInt(size);
}

const listCommand = defineCommand({
  meta: { name: "list", description: "List the node's storage pools: id, type, usage, path" },
  args: withExamples(clientArgs, ["pool list", "pool list --json | jq -r '.pools[].poolId'"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const res = await conn.client.listStoragePools({});
      if (args.json) return void out(jsonText(ListStoragePoolsResponseSchema, res));
      out(res.pools.length ? poolTable(res.pools) : "no storage pools on this node");
    }),
});

const infoCommand = defineCommand({
  meta: { name: "info", description: "Show one storage pool: type, path, usage, number of volumes" },
  args: withExamples({ ...poolArg, ...clientArgs }, ["pool info default", "pool info isos --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const pool = await conn.client.getStoragePoolInfo({ poolId: args.pool });
      out(args.json ? jsonText(StoragePoolInfoResponseSchema, pool) : poolDetails(pool));
    }),
});

const initCommand = defineCommand({
  meta: { name: "init", description: "Create a directory pool on this node (succeeds for a pool that already exists alike)" },
  args: withExamples(
    {
      id: { type: "string", description: "Pool id: A-Z a-z 0-9 . _ -", valueHint: "id", required: true },
      path: { type: "string", description: "Its directory, created when missing (default: <storage_path>/pools/<id>)", valueHint: "dir" },
      capacity: { type: "string", description: "Cap the pool's size, e.g. 500G (default: the filesystem's size)", valueHint: "size" },
      ...clientArgs,
    },
    ["pool init --id isos --path /srv/isos", "pool init --id fast --path /mnt/nvme/vms --capacity 500G --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      if (!args.id) throw new UsageError("--id is required (a name for the pool, e.g. isos)");
      const capacityGib = args.capacity === undefined ? undefined : BigInt(Math.ceil(Number(sizeFlag("capacity", args.capacity)) / GIB));
      const pool = await conn.client.initStoragePool({
        poolId: args.id,
        type: StoragePoolType.LOCAL_DIR,
        config: { local: { path: args.path ?? "", ...(capacityGib !== undefined ? { capacityGib } : {}) } },
      });
      if (args.json) return void out(jsonText(StoragePoolInfoResponseSchema, pool));
      out(`pool ${pool.poolId} ready at ${locationOf(pool)} (${bytes(pool.availableBytes)} available)`);
    }),
});

const filesCommand = defineCommand({
  meta: { name: "files", description: "List the files of a pool's folder (ISOs, images); their paths are what vm media --iso takes" },
  args: withExamples(
    { ...poolArg, path: { type: "positional", description: "Folder inside the pool (default: its root)", required: false }, ...clientArgs },
    ["pool files default", "pool files isos iso/linux", "pool files isos --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const res = await conn.client.listStoragePoolFiles({ poolId: args.pool, path: args.path ?? "" });
      if (args.json) return void out(jsonText(ListStoragePoolFilesResponseSchema, res));
      const where = res.currentPath ? `folder ${res.currentPath} of pool ${args.pool}` : `pool ${args.pool}`;
      out(res.entries.length ? filesTable(res.entries) : `${where} is empty`);
    }),
});

const resizeCommand = defineCommand({
  meta: { name: "resize", description: "Grow a volume (never shrinks); in pool default a VM disk's id names its volume" },
  args: withExamples(
    {
      ...poolArg,
      volume: { type: "positional", description: "Volume: its file name in the pool, or in pool default a VM disk's id", required: true },
      size: { type: "string", description: "The new size, e.g. 20G (larger than the current one)", valueHint: "size", required: true },
      ...clientArgs,
    },
    ["volume resize default root --size 20G", "volume resize fast logs-web-1.qcow2 --size 1T --json"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const newSizeBytes = sizeFlag("size", args.size);
      const res = await conn.client.resizeVolume({ poolId: args.pool, volumeId: args.volume, newSizeBytes });
      if (args.json) return void out(jsonText(ResizeVolumeResponseSchema, res));
      const v = res.volume;
      if (!v) throw new Error("the daemon answered ResizeVolume without the volume");
      out(`volume ${v.volumeId} in pool ${v.poolId}: ${bytes(v.sizeBytes)}${v.attachedTo ? ` (a disk of vm ${v.attachedTo})` : ""}`);
    }),
});

export const poolCommand = defineCommand({
  meta: { name: "pool", description: "Storage pools (e.g. `pool list`, `pool init --id isos --path /srv/isos`, `pool files isos`)" },
  subCommands: { list: listCommand, info: infoCommand, init: initCommand, files: filesCommand },
});

export const volumeCommand = defineCommand({
  meta: { name: "volume", description: "Volumes in storage pools (e.g. `volume resize default root --size 20G`)" },
  subCommands: { resize: resizeCommand },
});
