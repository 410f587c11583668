// `pool list|info|create|destroy|files` (init is create's older name) and `volume
// list|create|resize|clone|delete`: the node's storage pools (local directories, NFS, Ceph RBD,
// iSCSI) and the volumes in them.

import { type CommandContext, defineCommand } from "citty";
import {
  CloneVolumeResponseSchema,
  CreateVolumeResponseSchema,
  DeleteVolumeResponseSchema,
  DestroyStoragePoolResponseSchema,
  ListVolumesResponseSchema,
  type VolumeInfoResponse,
  VolumeSourceType,
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

const poolArg = {
  pool: { type: "positional", description: "Storage pool id (pool list shows them; the node's own storage is default)", required: true },
} as const;

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
  if (size === undefined || size === 0)
    throw new UsageError(`--${flag} ${text === undefined ? "is required" : `${JSON.stringify(text)}: give a size like 20G or 512M`}`);
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

const POOL_TYPES: Record<string, StoragePoolType> = {
  dir: StoragePoolType.LOCAL_DIR,
  nfs: StoragePoolType.NFS,
  ceph: StoragePoolType.CEPH_RBD,
  iscsi: StoragePoolType.ISCSI,
};

const createArgs = {
  id: { type: "string", description: "Pool id: A-Z a-z 0-9 . _ -", valueHint: "id", required: true },
  type: { type: "string", description: "dir (default), nfs, ceph or iscsi", valueHint: "type" },
  path: { type: "string", description: "dir: its directory (default <state_dir>/pools/<id>); nfs: the mount point", valueHint: "dir" },
  capacity: { type: "string", description: "dir: cap the pool's size, e.g. 500G (not enforced by directory pools)", valueHint: "size" },
  server: { type: "string", description: "nfs: the NFS server", valueHint: "host" },
  export: { type: "string", description: "nfs: the exported directory", valueHint: "path" },
  "nfs-version": { type: "string", description: "nfs: 3, 4, 4.1 (default) or 4.2", valueHint: "v" },
  options: { type: "string", description: "nfs: extra mount options, comma-separated", valueHint: "opts" },
  monitors: { type: "string", description: "ceph: monitors host:port, comma-separated", valueHint: "list" },
  "ceph-pool": { type: "string", description: "ceph: the Ceph pool", valueHint: "name" },
  user: { type: "string", description: "ceph: the Ceph user (default admin)", valueHint: "name" },
  keyring: { type: "string", description: "ceph: the keyring file", valueHint: "file" },
  "secret-uuid": { type: "string", description: "ceph: a libvirt secret that already holds the key", valueHint: "uuid" },
  portal: { type: "string", description: "iscsi: the portal host:port", valueHint: "host" },
  target: { type: "string", description: "iscsi: the target IQN", valueHint: "iqn" },
  lun: { type: "string", description: "iscsi: the LUN (default 0)", valueHint: "n" },
  "volume-group": { type: "string", description: "iscsi: an LVM volume group on the LUN (made when missing)", valueHint: "vg" },
  ...clientArgs,
} as const;

const createRun = ({ args }: CommandContext<typeof createArgs>) =>
  runClient(args, async ({ conn, out }) => {
    const str = (k: keyof typeof createArgs) => {
      const v = (args as Record<string, unknown>)[k];
      return typeof v === "string" ? v : "";
    };
    if (!str("id")) throw new UsageError("--id is required (a name for the pool, e.g. isos)");
    const typeName = str("type") || "dir";
    const type = POOL_TYPES[typeName];
    if (type === undefined) throw new UsageError(`--type ${JSON.stringify(typeName)}: give dir, nfs, ceph or iscsi`);
    const capacityGib = args.capacity === undefined ? undefined : BigInt(Math.ceil(Number(sizeFlag("capacity", str("capacity"))) / GIB));
    const lun = str("lun") === "" ? 0 : Number(str("lun"));
    if (!Number.isInteger(lun) || lun < 0) throw new UsageError(`--lun ${JSON.stringify(str("lun"))}: give a whole number`);
    const config =
      type === StoragePoolType.LOCAL_DIR
        ? { local: { path: str("path"), ...(capacityGib !== undefined ? { capacityGib } : {}) } }
        : type === StoragePoolType.NFS
          ? { nfs: { server: str("server"), exportPath: str("export"), version: str("nfs-version"), options: str("options"), mountPoint: str("path") } }
          : type === StoragePoolType.CEPH_RBD
            ? {
                ceph: {
                  poolName: str("ceph-pool"),
                  monitors: str("monitors")
                    .split(",")
                    .map((m) => m.trim())
                    .filter(Boolean),
                  user: str("user"),
                  keyringPath: str("keyring"),
                  secretUuid: str("secret-uuid"),
                },
              }
            : { iscsi: { portal: str("portal"), target: str("target"), lun, volumeGroup: str("volume-group") } };
    const pool = await conn.client.initStoragePool({ poolId: str("id"), type, config });
    if (args.json) return void out(jsonText(StoragePoolInfoResponseSchema, pool));
    out(`pool ${pool.poolId} ready at ${locationOf(pool)} (${bytes(pool.availableBytes)} available)`);
  });

const createExamples = [
  "pool create --id isos --path /srv/isos",
  "pool create --id nas --type nfs --server 10.0.0.5 --export /exports/vms --nfs-version 4.1",
  "pool create --id ceph --type ceph --monitors 10.0.0.11:6789,10.0.0.12:6789 --ceph-pool vms --user libvirt --keyring /etc/ceph/ceph.client.libvirt.keyring",
  "pool create --id san --type iscsi --portal 10.0.0.20:3260 --target iqn.2026-01.com.example:vms --volume-group vg_vms --json",
];

const createCommand = defineCommand({
  meta: { name: "create", description: "Create a storage pool on this node (succeeds for a pool that already exists alike; a changed config is refused)" },
  args: withExamples(createArgs, createExamples),
  run: createRun,
});

const initCommand = defineCommand({
  meta: { name: "init", description: "The same as pool create" },
  args: withExamples(createArgs, ["pool init --id isos --path /srv/isos", "pool init --id fast --path /mnt/nvme/vms --capacity 500G --json"]),
  run: createRun,
});

const destroyCommand = defineCommand({
  meta: { name: "destroy", description: "Remove a pool from the node (stops and undefines it; its files, export or images stay). Refused while a VM uses it" },
  args: withExamples({ ...poolArg, ...clientArgs }, ["pool destroy isos", "pool destroy nas --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const res = await conn.client.destroyStoragePool({ poolId: args.pool });
      if (args.json) return void out(jsonText(DestroyStoragePoolResponseSchema, res));
      out(`pool ${res.poolId} destroyed (its data stays)`);
    }),
});

export function volumeTable(volumes: VolumeInfoResponse[]): string {
  return table(
    ["VOLUME", "FORMAT", "SIZE", "ALLOCATED", "VM", "BACKING", "PATH"],
    volumes.map((v) => [v.volumeId, v.format, bytes(v.sizeBytes), bytes(v.allocationBytes), v.attachedTo || "-", v.backingPath || "-", v.path]),
  );
}

const volumeLine = (verb: string, v: VolumeInfoResponse | undefined) => {
  if (!v) throw new Error(`the daemon answered without the volume`);
  return `volume ${v.volumeId} ${verb} in pool ${v.poolId}: ${bytes(v.sizeBytes)} ${v.format} at ${v.path}${v.backingPath ? ` on ${v.backingPath}` : ""}`;
};

const volumeListCommand = defineCommand({
  meta: { name: "list", description: "List a pool's volumes: format, size, the VM using each" },
  args: withExamples({ ...poolArg, ...clientArgs }, ["volume list default", "volume list nas --json"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const res = await conn.client.listVolumes({ poolId: args.pool });
      if (args.json) return void out(jsonText(ListVolumesResponseSchema, res));
      out(res.volumes.length ? volumeTable(res.volumes) : `pool ${args.pool} has no volumes`);
    }),
});

const volumeArg = { volume: { type: "positional", description: "Volume id (in file pools its file name, with or without .qcow2)", required: true } } as const;

const volumeCreateCommand = defineCommand({
  meta: { name: "create", description: "Create a volume: empty, or on a volume (--clone), an image (--image) or a volume snapshot (--snapshot vol@snap)" },
  args: withExamples(
    {
      ...poolArg,
      ...volumeArg,
      size: { type: "string", description: "Its size, e.g. 20G (with a source: at least the source's; default the source's)", valueHint: "size" },
      clone: { type: "string", description: "A copy-on-write clone of this volume of the pool", valueHint: "volume" },
      image: { type: "string", description: "An overlay on this image (a path, or a name in the pools and cloud images)", valueHint: "image" },
      snapshot: { type: "string", description: "An overlay on a volume snapshot: volume@snapshot", valueHint: "vol@snap" },
      format: { type: "string", description: "qcow2 (default) or raw", valueHint: "fmt" },
      ...clientArgs,
    },
    [
      "volume create default data-1 --size 20G",
      "volume create nas web-2 --clone web-1",
      "volume create default root --image debian-12.qcow2 --size 40G --json",
    ],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const sources = [args.clone, args.image, args.snapshot].filter((s) => s !== undefined);
      if (sources.length > 1) throw new UsageError("give at most one of --clone, --image and --snapshot");
      const sourceType =
        args.clone !== undefined
          ? VolumeSourceType.VOLUME_SOURCE_CLONE
          : args.image !== undefined
            ? VolumeSourceType.VOLUME_SOURCE_IMAGE
            : args.snapshot !== undefined
              ? VolumeSourceType.VOLUME_SOURCE_SNAPSHOT
              : VolumeSourceType.VOLUME_SOURCE_EMPTY;
      const sizeBytes = args.size === undefined ? (sources.length ? 0n : sizeFlag("size", undefined)) : sizeFlag("size", args.size);
      const res = await conn.client.createVolume({
        poolId: args.pool,
        volumeId: args.volume,
        sizeBytes,
        sourceType,
        sourceId: (sources[0] as string | undefined) ?? "",
        format: args.format ?? "",
      });
      if (args.json) return void out(jsonText(CreateVolumeResponseSchema, res));
      out(volumeLine("created", res.volume));
    }),
});

const volumeCloneCommand = defineCommand({
  meta: { name: "clone", description: "A full, independent copy of a volume in the same pool" },
  args: withExamples(
    { ...poolArg, ...volumeArg, to: { type: "string", description: "The new volume's id", valueHint: "volume", required: true }, ...clientArgs },
    ["volume clone default golden --to web-3"],
  ),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      if (!args.to) throw new UsageError("--to is required (the new volume's id)");
      const res = await conn.client.cloneVolume({ poolId: args.pool, sourceVolumeId: args.volume, destVolumeId: args.to });
      if (args.json) return void out(jsonText(CloneVolumeResponseSchema, res));
      out(volumeLine("copied", res.volume));
    }),
});

const volumeDeleteCommand = defineCommand({
  meta: { name: "delete", description: "Delete a volume (refused while a VM has it as a disk, or it is another volume's base)" },
  args: withExamples({ ...poolArg, ...volumeArg, ...clientArgs }, ["volume delete default data-1"]),
  run: ({ args }) =>
    runClient(args, async ({ conn, out }) => {
      const res = await conn.client.deleteVolume({ poolId: args.pool, volumeId: args.volume });
      if (args.json) return void out(jsonText(DeleteVolumeResponseSchema, res));
      out(`volume ${res.volume?.volumeId ?? args.volume} deleted from pool ${args.pool}`);
    }),
});

const filesCommand = defineCommand({
  meta: { name: "files", description: "List the files of a pool's folder (ISOs, images); their paths are what vm media --iso takes" },
  args: withExamples({ ...poolArg, path: { type: "positional", description: "Folder inside the pool (default: its root)", required: false }, ...clientArgs }, [
    "pool files default",
    "pool files isos iso/linux",
    "pool files isos --json",
  ]),
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
  meta: { name: "pool", description: "Storage pools (e.g. `pool list`, `pool create --id isos --path /srv/isos`, `pool files isos`)" },
  subCommands: { list: listCommand, info: infoCommand, create: createCommand, init: initCommand, destroy: destroyCommand, files: filesCommand },
});

export const volumeCommand = defineCommand({
  meta: { name: "volume", description: "Volumes in storage pools (e.g. `volume list default`, `volume resize default root --size 20G`)" },
  subCommands: { list: volumeListCommand, create: volumeCreateCommand, resize: resizeCommand, clone: volumeCloneCommand, delete: volumeDeleteCommand },
});
