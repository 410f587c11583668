// The CD-ROMs the node adds to every VM it creates, and how to leave them out again when a
// CreateVM is repeated (idempotency compares the request with what exists).
//
// - Every VM has at least one CD-ROM: an empty SATA drive when the request has none. The
//   control plane mounts ISOs later with ChangeMedia, and SATA CD-ROMs cannot be hot-plugged on
//   q35 machines, so the drive must exist from the start.
// - With cloud-init data, the NoCloud ISO is a read-only SATA CD-ROM with id "cloud-init", put
//   first among the CD-ROMs (as the reference node does).

import { HypervisorError } from "../errors.ts";
import { CLOUD_INIT_CDROM_ID, type DiskSpec } from "../types.ts";

/** Id of the empty drive; the next free cdrom-<n> if a disk already has it. */
export function emptyCdromId(disks: readonly DiskSpec[]): string {
  const taken = new Set(disks.map((d) => d.id));
  for (let n = 0; ; n++) if (!taken.has(`cdrom-${n}`)) return `cdrom-${n}`;
}

export const emptyCdrom = (id: string): DiskSpec => ({ id, device: "cdrom", bus: "sata", readonly: true, bootOrder: 0 });

export const cloudInitCdrom = (isoPath: string): DiskSpec => ({
  id: CLOUD_INIT_CDROM_ID,
  device: "cdrom",
  path: isoPath,
  bus: "sata",
  readonly: true,
  bootOrder: 0,
});

/** File name of a VM's NoCloud ISO in the node's default storage. */
export const cloudInitIsoName = (vmId: string) => `${vmId}-cloud-init.iso`;

/**
 * The requested disks plus the node's CD-ROMs: an empty drive at the end when none was asked
 * for, and the cloud-init drive (when cloudInitIso is given) right before the first CD-ROM.
 * A requested disk using the reserved id "cloud-init" is invalid_argument.
 */
export function withNodeCdroms(disks: readonly DiskSpec[], cloudInitIso?: string, field = "spec.disks"): DiskSpec[] {
  const reserved = disks.findIndex((d) => d.id === CLOUD_INIT_CDROM_ID);
  if (reserved >= 0) {
    throw new HypervisorError(
      "invalid_argument",
      `${field}[${reserved}].id: "${CLOUD_INIT_CDROM_ID}" is reserved for the node's cloud-init CD-ROM`,
      `${field}[${reserved}].id`,
    );
  }
  const out = [...disks];
  if (!out.some((d) => d.device === "cdrom")) out.push(emptyCdrom(emptyCdromId(disks)));
  if (cloudInitIso !== undefined)
    out.splice(
      out.findIndex((d) => d.device === "cdrom"),
      0,
      cloudInitCdrom(cloudInitIso),
    );
  return out;
}

/**
 * An existing VM's disks without the CD-ROMs the node added for this request (for comparing a
 * repeated CreateVM): the cloud-init drive, and the empty drive when the request had no
 * CD-ROM (whatever medium ChangeMedia has put in it since).
 */
export function withoutNodeCdroms(existing: readonly DiskSpec[], requested: readonly DiskSpec[]): DiskSpec[] {
  const added = requested.some((d) => d.device === "cdrom") ? undefined : emptyCdromId(requested);
  return existing.filter((d) => d.id !== CLOUD_INIT_CDROM_ID && !(d.device === "cdrom" && d.id === added));
}

/** The node's cloud-init drive of a VM, if it has one. */
export const cloudInitDrive = (disks: readonly DiskSpec[]) => disks.find((d) => d.id === CLOUD_INIT_CDROM_ID && d.device === "cdrom");
