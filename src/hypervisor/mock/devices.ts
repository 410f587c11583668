// What a backend fills into a requested device: the guest target name (vda, sdb, hdc, as
// libvirt names them), the image's host path, and a MAC for a NIC that has none.

import { generateMac } from "../defaults.ts";
import { nextTarget } from "../disk-targets.ts";
import type { DiskSpec, NicSpec } from "../types.ts";

/** The mock's VMs are q35 machines, as libvirt's are here (no IDE: such disks get sd* names). */
const MACHINE = "q35";

/** The guest target of a disk whose image is already resolved (storage.ts). */
export function resolveDisk(disk: DiskSpec, existing: readonly DiskSpec[]): DiskSpec {
  return { ...disk, target: nextTarget(disk.bus, existing, MACHINE) };
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

export function resolveDevices(disks: readonly DiskSpec[], nics: readonly NicSpec[], random: () => number): { disks: DiskSpec[]; nics: NicSpec[] } {
  const outDisks: DiskSpec[] = [];
  for (const d of disks) outDisks.push(resolveDisk(d, outDisks));
  const requested = nics.flatMap((n) => (n.mac ? [n.mac.toLowerCase()] : []));
  const outNics: NicSpec[] = [];
  for (const n of nics) outNics.push(resolveNic(n, outNics, random, requested));
  return { disks: outDisks, nics: outNics };
}
