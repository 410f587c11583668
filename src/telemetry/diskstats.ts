// /proc/diskstats: I/O counters of whole block devices. Partitions are skipped (their I/O is
// already in the disk's line), as are loop, ram, zram and floppy devices, which are not disks:
// the same set node_exporter's default device exclusion leaves out. dm-* (LVM, dm-crypt) and
// md* (software RAID) are whole devices and are kept.

import type { DiskSample } from "./types.ts";
import { type HostIo, type HostRoots, procPath, readDirOptional, sysPath } from "./host-io.ts";
import { fields, lines, readWellFormedLines, TelemetryParseError, uintField } from "./parse-error.ts";

/** diskstats counts 512-byte sectors whatever the device's real sector size. */
const SECTOR_BYTES = 512;

export interface DiskStatsLine {
  major: number;
  minor: number;
  device: string;
  readsCompleted: number;
  readsMerged: number;
  readBytes: number;
  readTimeMs: number;
  writesCompleted: number;
  writesMerged: number;
  writeBytes: number;
  writeTimeMs: number;
  ioInProgress: number;
  ioTimeMs: number;
  weightedIoTimeMs: number;
}

/** A well-formed line: major, minor, name, then the 11 counters used and any newer ones. */
const DISK_LINE = / *(\d+) +(\d+) +(\S+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)(?: +\d+)*[ \t]*\n/y;

/** /proc/diskstats, in one pass when well formed (readWellFormedLines), else line by line. */
export function parseDiskStats(text: string, file = "/proc/diskstats"): DiskStatsLine[] {
  const out: DiskStatsLine[] = [];
  const wellFormed = readWellFormedLines(text, [DISK_LINE], (m) => {
    const u = (k: number) => Number(m[k + 1]);
    out.push({
      major: u(0),
      minor: u(1),
      device: m[3] as string,
      readsCompleted: u(3),
      readsMerged: u(4),
      readBytes: u(5) * SECTOR_BYTES,
      readTimeMs: u(6),
      writesCompleted: u(7),
      writesMerged: u(8),
      writeBytes: u(9) * SECTOR_BYTES,
      writeTimeMs: u(10),
      ioInProgress: u(11),
      ioTimeMs: u(12),
      weightedIoTimeMs: u(13),
    });
  });
  return wellFormed ? out : parseDiskStatsLines(text, file);
}

/** parseDiskStats line by line: the reference for what is accepted, and the errors. */
export function parseDiskStatsLines(text: string, file = "/proc/diskstats"): DiskStatsLine[] {
  const out: DiskStatsLine[] = [];
  lines(text).forEach((line, i) => {
    const n = i + 1;
    const f = fields(line);
    if (f.length === 0) return;
    // Kernels before 2.6.25 printed partitions with 4 counters only; those are partitions anyway.
    if (f.length === 7) return;
    if (f.length < 14) throw new TelemetryParseError(file, n, `expected at least 14 fields, got ${f.length}`);
    const u = (k: number, what: string) => uintField(f[k], file, n, what);
    out.push({
      major: u(0, "major"),
      minor: u(1, "minor"),
      device: f[2] as string,
      readsCompleted: u(3, "reads completed"),
      readsMerged: u(4, "reads merged"),
      readBytes: u(5, "sectors read") * SECTOR_BYTES,
      readTimeMs: u(6, "read time"),
      writesCompleted: u(7, "writes completed"),
      writesMerged: u(8, "writes merged"),
      writeBytes: u(9, "sectors written") * SECTOR_BYTES,
      writeTimeMs: u(10, "write time"),
      ioInProgress: u(11, "I/O in progress"),
      ioTimeMs: u(12, "I/O time"),
      weightedIoTimeMs: u(13, "weighted I/O time"),
    });
  });
  return out;
}

const NOT_DISKS = /^(loop|ram|zram|fd)\d+$/;
// Used only when /sys/block cannot be listed: the partition names node_exporter recognises.
const PARTITION = /^((h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+|md\d+p\d+)$/;

/**
 * True for a whole disk worth reporting. `wholeDevices` is the listing of /sys/block (which
 * holds exactly the whole devices; "/" in a name appears there as "!").
 */
export function isReportedDisk(device: string, wholeDevices: ReadonlySet<string> | undefined): boolean {
  if (NOT_DISKS.test(device)) return false;
  if (wholeDevices !== undefined) return wholeDevices.has(device.replaceAll("/", "!"));
  return !PARTITION.test(device);
}

export function toDiskSamples(stats: DiskStatsLine[], wholeDevices: ReadonlySet<string> | undefined): DiskSample[] {
  return stats.filter((s) => isReportedDisk(s.device, wholeDevices)).map(({ major: _major, minor: _minor, ...s }) => ({ ...s }));
}

/**
 * The whole disks' counters (/proc/diskstats, /sys/block), for a sampler that runs every second:
 * /sys/block is listed again only when diskstats names other devices than at the last listing (a
 * disk added or removed shows in both at once), not every time.
 */
export function diskSamplesReader(io: HostIo, roots: HostRoots): () => Promise<DiskSample[]> {
  const file = procPath(roots, "diskstats");
  let listed: { devices: string; whole: ReadonlySet<string> | undefined } | undefined;
  return async () => {
    const stats = parseDiskStats(await io.readText(file), file);
    const devices = stats.map((s) => s.device).join(" ");
    if (listed?.devices !== devices) {
      const block = await readDirOptional(io, sysPath(roots, "block"));
      listed = { devices, whole: block === undefined ? undefined : new Set(block) };
    }
    return toDiskSamples(stats, listed.whole);
  };
}
