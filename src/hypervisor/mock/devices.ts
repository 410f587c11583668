// What a backend fills into a requested device: the guest target name (vda, sdb, hdc, as
// libvirt names them), the image's host path, and a MAC for a NIC that has none.

import { generateMac } from "../defaults.ts";
import type { DiskBus, DiskSpec, NicSpec } from "../types.ts";

const PREFIX: Record<DiskBus, string> = { virtio: "vd", scsi: "sd", sata: "sd", ide: "hd" };

/** 0 -> "a", 25 -> "z", 26 -> "aa" (libvirt's vdz is followed by vdaa). */
export function targetSuffix(index: number): string {
  let n = index;
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

/** The lowest free target on the disk's bus among the disks the VM already has. */
export function nextTarget(bus: DiskBus, existing: readonly DiskSpec[]): string {
  const prefix = PREFIX[bus];
  const taken = new Set(existing.map((d) => d.target));
  for (let i = 0; ; i++) {
    const candidate = prefix + targetSuffix(i);
    if (!taken.has(candidate)) return candidate;
  }
}

export function resolveDisk(disk: DiskSpec, vmId: string, storagePath: string, existing: readonly DiskSpec[]): DiskSpec {
  const out: DiskSpec = { ...disk, target: nextTarget(disk.bus, existing) };
  if (disk.path !== undefined && disk.path !== "") out.resolvedPath = disk.path;
  else if (disk.newImage) out.resolvedPath = `${storagePath}/${vmId}/${disk.id}.${disk.newImage.format}`;
  return out;
}

/** reserved: MACs requested by NICs not yet resolved, which a generated MAC must not take. */
export function resolveNic(nic: NicSpec, existing: readonly NicSpec[], random: () => number, reserved: readonly string[] = []): NicSpec {
  if (nic.mac !== undefined && nic.mac !== "") return { ...nic, mac: nic.mac.toLowerCase() };
  const taken = new Set([...existing.map((n) => n.mac), ...reserved]);
  let mac = generateMac(random);
  // 2^24 addresses and at most 32 NICs: a few retries always find a free one.
  for (let i = 0; taken.has(mac) && i < 100; i++) mac = generateMac(random);
  return { ...nic, mac };
}

export function resolveDevices(
  disks: readonly DiskSpec[],
  nics: readonly NicSpec[],
  vmId: string,
  storagePath: string,
  random: () => number,
): { disks: DiskSpec[]; nics: NicSpec[] } {
  const outDisks: DiskSpec[] = [];
  for (const d of disks) outDisks.push(resolveDisk(d, vmId, storagePath, outDisks));
  const requested = nics.flatMap((n) => (n.mac ? [n.mac.toLowerCase()] : []));
  const outNics: NicSpec[] = [];
  for (const n of nics) outNics.push(resolveNic(n, outNics, random, requested));
  return { disks: outDisks, nics: outNics };
}
