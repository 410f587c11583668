// GET /api/v1/registration/discovery (contract section 5, row 22): the host's hardware in the
// control plane's field names, from the telemetry module (identity, one sample, interfaces) and
// /sys/block for the local disks. Figures a source could not give are left out, never 0.
// iSCSI sessions are not inventoried by this node: `iscsi` is always empty.

import type { HostIdentity, HostSample } from "../../telemetry/index.ts";
import type { HostIo } from "../../telemetry/host-io.ts";
import type { InterfaceFacts } from "../../telemetry/net-interfaces.ts";

export interface BlockDevice {
  name: string;
  sizeBytes: number;
  model?: string;
  serial?: string;
  rotational?: boolean;
  removable?: boolean;
}

export interface NfsMount {
  mountPoint: string;
  source: string;
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
}

export interface DiscoveryInput {
  hostname: string;
  managementIp: string;
  identity: HostIdentity;
  sample?: HostSample;
  interfaces: InterfaceFacts[];
  blockDevices: BlockDevice[];
  nfs: NfsMount[];
}

const ARCH: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

function cpuVendor(model: string): string | undefined {
  if (/intel/i.test(model)) return "GenuineIntel";
  if (/amd/i.test(model)) return "AuthenticAMD";
  return undefined;
}

function diskInterface(name: string): string {
  if (name.startsWith("nvme")) return "nvme";
  if (name.startsWith("vd")) return "virtio";
  if (name.startsWith("mmcblk")) return "mmc";
  if (name.startsWith("sd")) return "sata";
  return "unknown";
}

function diskType(d: BlockDevice): string {
  if (d.name.startsWith("nvme")) return "NVMe";
  if (d.rotational === true) return "HDD";
  if (d.rotational === false) return "SSD";
  return "unknown";
}

/** Pure: the discovery JSON from what was read. */
export function buildDiscovery(input: DiscoveryInput) {
  const { identity: id, sample } = input;
  const cpu = id.cpu;
  const sockets = cpu.sockets;
  const cores = sockets !== undefined && cpu.coresPerSocket !== undefined ? sockets * cpu.coresPerSocket : cpu.totalThreads;
  const mem = sample?.memory;
  const available = mem?.availableBytes ?? id.memory.availableBytes;
  const swapUsed = mem?.swapTotalBytes !== undefined && mem.swapFreeBytes !== undefined ? mem.swapTotalBytes - mem.swapFreeBytes : undefined;
  return {
    hostname: input.hostname,
    managementIp: input.managementIp,
    cpu: defined({
      model: cpu.model,
      vendor: cpuVendor(cpu.model),
      cores,
      threads: cpu.totalThreads,
      sockets: sockets ?? 1,
      frequencyMhz: cpu.mhz === undefined ? undefined : Math.round(cpu.mhz),
      features: cpu.flags,
      architecture: ARCH[id.os.arch] ?? id.os.arch,
    }),
    memory: defined({
      totalBytes: id.memory.totalBytes,
      availableBytes: available ?? 0,
      usedBytes: available === undefined ? undefined : id.memory.totalBytes - available,
      swapTotalBytes: mem?.swapTotalBytes,
      swapUsedBytes: swapUsed,
    }),
    storage: {
      local: input.blockDevices.map((d) =>
        defined({
          name: d.name,
          model: d.model ?? "",
          serial: d.serial,
          sizeBytes: d.sizeBytes,
          diskType: diskType(d),
          interface: diskInterface(d.name),
          isRemovable: d.removable,
        }),
      ),
      nfs: input.nfs.map((n) => {
        const colon = n.source.lastIndexOf(":");
        return {
          mountPoint: n.mountPoint,
          server: colon > 0 ? n.source.slice(0, colon) : n.source,
          exportPath: colon > 0 ? n.source.slice(colon + 1) : "",
          sizeBytes: n.sizeBytes,
          usedBytes: n.usedBytes,
          availableBytes: n.availableBytes,
        };
      }),
      iscsi: [] as never[],
    },
    network: input.interfaces
      .filter((i) => i.name !== "lo")
      .map((i) => defined({ name: i.name, macAddress: i.macAddress, speedMbps: i.speedMbps, linkState: i.up ? "up" : "down" })),
    gpus: (id.pciDevices ?? []).filter((p) => p.isGpu).map((p) => defined({ name: p.className, vendor: p.vendorName ?? p.vendorId, pciAddress: p.address })),
  };
}

/** Whole disks worth listing: not loop, ram, zram, device-mapper, md or optical devices. */
const VIRTUAL_BLOCK = /^(loop|ram|zram|dm-|md|sr|fd|nbd)/;

export async function readBlockDevices(io: HostIo, sysRoot: string): Promise<BlockDevice[]> {
  let names: string[];
  try {
    names = await io.readDir(`${sysRoot}/block`);
  } catch {
    return [];
  }
  const text = (p: string) =>
    io.readText(p).then(
      (t) => t.trim(),
      () => undefined,
    );
  const out: BlockDevice[] = [];
  for (const name of names.filter((n) => !VIRTUAL_BLOCK.test(n)).sort()) {
    const base = `${sysRoot}/block/${name}`;
    const [size, model, serial, rotational, removable] = await Promise.all([
      text(`${base}/size`),
      text(`${base}/device/model`),
      text(`${base}/device/serial`),
      text(`${base}/queue/rotational`),
      text(`${base}/removable`),
    ]);
    const sectors = Number(size);
    if (!Number.isFinite(sectors) || sectors <= 0) continue;
    out.push(
      defined({
        name,
        sizeBytes: sectors * 512,
        model: model || undefined,
        serial: serial || undefined,
        rotational: rotational === undefined ? undefined : rotational === "1",
        removable: removable === undefined ? undefined : removable === "1",
      }),
    );
  }
  return out;
}

export async function readNfsMounts(io: HostIo, procRoot: string): Promise<NfsMount[]> {
  let mounts: string;
  try {
    mounts = await io.readText(`${procRoot}/self/mounts`);
  } catch {
    return [];
  }
  const out: NfsMount[] = [];
  for (const line of mounts.split("\n")) {
    const [source, mountPoint, fstype] = line.split(" ");
    if (!source || !mountPoint || !/^nfs4?$/.test(fstype ?? "")) continue;
    // /proc/self/mounts escapes spaces and tabs as octal.
    const mp = mountPoint.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    try {
      const s = await io.statfs(mp);
      out.push({
        mountPoint: mp,
        source,
        sizeBytes: s.blocks * s.blockSize,
        usedBytes: (s.blocks - s.blocksFree) * s.blockSize,
        availableBytes: s.blocksAvailable * s.blockSize,
      });
    } catch {
      // A hung or gone NFS server: leave that mount out rather than stall discovery.
    }
  }
  return out;
}
