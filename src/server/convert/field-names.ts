// The hypervisor model's rules name the model's fields (spec.cpu.sockets, spec.disks[3].volume,
// new_image.backing_path); a caller wrote the wire's (spec.cpu_sockets, spec.cdroms[1].iso_path,
// backing_file). An error must name the field the caller wrote, so this one table renames them.
// The model keeps disks and CD-ROMs in one list; the wire has two, so indexes are renumbered.

import { HypervisorError } from "../../hypervisor/errors.ts";
import type { DiskSpec } from "../../hypervisor/types.ts";

/** Model sub-field -> wire sub-field, for a disk and for a CD-ROM (longest first). */
const DISK_FIELDS: [string, string][] = [
  [".new_image.size_bytes", ".size_gib"],
  [".new_image.backing_path", ".backing_file"],
  [".new_image.format", ".format"],
  [".new_image", ""],
  [".source", ""],
  [".volume", ".path"],
  [".pool", ".pool_id"],
  [".boot_order", ".bootable"],
];
const CDROM_FIELDS: [string, string][] = [
  [".source", ""],
  [".volume", ".iso_path"],
  [".path", ".iso_path"],
  [".boot_order", ".bootable"],
];
const SPEC_FIELDS: [string, string][] = [
  ["spec.cpu.sockets", "spec.cpu_sockets"],
  ["spec.cpu.cores_per_socket", "spec.cpu_cores"],
  ["spec.cpu.threads_per_core", "spec.cpu_threads_per_core"],
  ["spec.cpu.mode", "spec.cpu_mode"],
  ["spec.cpu.model", "spec.cpu_model"],
  ["spec.cpu", "spec.cpu_cores"],
  ["spec.memory.size_mib", "spec.memory_mib"],
  ["spec.memory.hugepages", "spec.memory_hugepages"],
  ["spec.console.password", "spec.console.vnc_password"],
  ["spec.console.port", "spec.console.vnc_port"],
  ["spec.name", "name"],
  ["spec.labels", "labels"],
];
const NIC_FIELDS: [string, string][] = [
  [".mac", ".mac_address"],
  [".attachment", ".network"],
];

function renameSub(rest: string, table: [string, string][]): string {
  for (const [model, wire] of table) if (rest === model || rest.startsWith(`${model}.`) || rest.startsWith(`${model}[`)) return wire + rest.slice(model.length);
  return rest;
}

/** One model field path (prefix "spec" for a VM, "disk" / "nic" for a hot-plug) as the wire names it. */
export function wireField(field: string, disks: readonly Pick<DiskSpec, "device">[]): string {
  const disk = /^spec\.disks\[(\d+)\](.*)$/.exec(field);
  if (disk) {
    const i = Number(disk[1]);
    const device = disks[i]?.device ?? "disk";
    const j = disks.slice(0, i).filter((d) => d.device === device).length;
    const list = device === "cdrom" ? "cdroms" : "disks";
    return `spec.${list}[${j}]${renameSub(disk[2]!, device === "cdrom" ? CDROM_FIELDS : DISK_FIELDS)}`;
  }
  const nic = /^(spec\.nics\[\d+\]|nic)(.*)$/.exec(field);
  if (nic) return nic[1]! + renameSub(nic[2]!, NIC_FIELDS);
  if (field.startsWith("disk.") || field === "disk") return `disk${renameSub(field.slice(4), DISK_FIELDS)}`;
  for (const [model, wire] of SPEC_FIELDS) {
    if (field === model || field.startsWith(`${model}.`) || field.startsWith(`${model}[`)) return wire + field.slice(model.length);
  }
  return field;
}

/** Runs fn; a HypervisorError naming a model field is rethrown naming the wire field. */
export async function withWireFields<T>(disks: readonly Pick<DiskSpec, "device">[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof HypervisorError) || err.field === undefined) throw err;
    const field = wireField(err.field, disks);
    if (field === err.field) throw err;
    const message = err.message.startsWith(err.field) ? field + err.message.slice(err.field.length) : err.message;
    throw new HypervisorError(err.kind, message, field, { cause: err });
  }
}
