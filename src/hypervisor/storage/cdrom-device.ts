// ChangeMedia's CD-ROM as the control plane names it. The control plane computes
// "sd" + chr('a' + <its number of disks> + <the CD-ROM's index in its spec>) and knows nothing of
// the node's own cloud-init CD-ROM (contract 7.2, last paragraph). So the letter is read as an
// index into the VM's CD-ROMs in their order, the cloud-init one left out, never as the guest
// device name (which the cloud-init drive shifts).

import { HypervisorError } from "../errors.ts";
import { CLOUD_INIT_CDROM_ID, type DiskSpec } from "../types.ts";

const DEVICE_RE = /^sd([a-z])$/;

/**
 * The CD-ROM `device` stands for. cdroms: the VM's CD-ROMs in order (a cloud-init one among them
 * is skipped); diskCount: its disks (device "disk"). A malformed device is invalid_argument; an
 * index outside the user CD-ROMs is not_found naming the device, the disk count and the ids.
 */
export function cdromForDevice<T extends Pick<DiskSpec, "id">>(cdroms: readonly T[], diskCount: number, device: string, field = "device"): T {
  const m = DEVICE_RE.exec(device);
  if (!m) {
    throw new HypervisorError("invalid_argument", `${field}: ${JSON.stringify(device.slice(0, 40))} is not a CD-ROM device name like "sdb"`, field);
  }
  const letter = (m[1] ?? "a").charCodeAt(0) - 97;
  const user = cdroms.filter((c) => c.id !== CLOUD_INIT_CDROM_ID);
  const index = letter - diskCount;
  const hit = index >= 0 ? user[index] : undefined;
  if (hit !== undefined) return hit;
  const ids = user.map((c) => c.id);
  throw new HypervisorError(
    "not_found",
    `${field}: ${device} is CD-ROM number ${index + 1} after the vm's ${diskCount} disk${diskCount === 1 ? "" : "s"}, ` +
      `but the vm has ${ids.length} CD-ROM${ids.length === 1 ? "" : "s"} (${ids.join(", ") || "none"}; the cloud-init drive is not counted)`,
    field,
  );
}

/** The same over a VM's whole disk list. */
export function cdromOfVm(disks: readonly DiskSpec[], device: string, field = "device"): DiskSpec {
  return cdromForDevice(
    disks.filter((d) => d.device === "cdrom"),
    disks.filter((d) => d.device === "disk").length,
    device,
    field,
  );
}
