// Hot-plug and media: attach and detach disks and NICs of a VM, insert and eject CD-ROM media.
// The device built from the flags is checked with the API's own conversion and rules (faults
// named as the wire names them) before it is sent.

import { create } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { defineCommand } from "citty";
import {
  DiskBusSchema,
  type DiskSpec,
  DiskSpecSchema,
  DiskFormatSchema,
  NicModelSchema,
  type NicSpec,
  NicSpecSchema,
  type VMOperationResponse,
  type VMStatusResponse,
  VMStatusResponseSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { cdromForDevice } from "../../hypervisor/storage/cdrom-device.ts";
import { validateDeviceId, validateDiskSpec, validateNicSpec } from "../../hypervisor/validation.ts";
import { withWireFields } from "../../server/convert/field-names.ts";
import { diskFromWire, nicFromWire } from "../../server/convert/vm-spec.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import type { DaemonClient } from "./connection.ts";
import { runClient } from "./failures.ts";
import { enumChoices, jsonText, parseEnum, parseSize } from "./format.ts";
import { resolveVm, vmLabel } from "./resolve-vm.ts";
import { stateOf } from "./vm-state.ts";

const GIB = 1024 ** 3;

const vmArg = { vm: { type: "positional", description: "VM name or id", required: true } } as const;

function enumFlag(desc: Parameters<typeof parseEnum>[0], flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = parseEnum(desc, value);
  if (n === undefined) throw new UsageError(`--${flag} ${JSON.stringify(value)}: must be one of ${enumChoices(desc).join(", ")}`);
  return n;
}

/** A failure of the API's checks is bad usage here (nothing was sent yet). */
function usage(err: unknown): never {
  if (err instanceof HypervisorError) throw new UsageError(err.message);
  if (err instanceof ConnectError) throw new UsageError(err.rawMessage);
  throw err;
}

function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    return usage(err);
  }
}

/** A size flag in whole GiB, rounded up (the API counts new images in GiB). */
export function gibFlag(flag: string, text: string): bigint {
  const size = parseSize(text);
  if (size === undefined || size === 0) throw new UsageError(`--${flag} ${JSON.stringify(text)}: give a size like 10G or 512M`);
  return BigInt(Math.ceil(size / GIB));
}

export interface DiskFlags {
  "disk-id"?: string;
  path?: string;
  size?: string;
  format?: string;
  bus?: string;
  pool?: string;
  readonly?: boolean;
}

export async function diskFromFlags(f: DiskFlags): Promise<DiskSpec> {
  if (!f["disk-id"]) throw new UsageError("--disk-id is required (a name for the disk within the VM, e.g. data1)");
  if (f.path === undefined && f.size === undefined) {
    throw new UsageError("give --size (a new image), --path (an existing image, or a volume name), or both (a volume created when missing)");
  }
  const existingFile = f.path?.startsWith("/") === true;
  if (existingFile && f.size !== undefined) throw new UsageError("--size makes a new image; an absolute --path names an existing one: give one of them");
  if (existingFile && f.format !== undefined) throw new UsageError("--format is for a new image, not an existing --path");
  if (existingFile && f.pool !== undefined) throw new UsageError("--pool is for a volume name or a new image, not an absolute --path");
  const disk = create(DiskSpecSchema, {
    id: f["disk-id"],
    path: f.path ?? "",
    sizeGib: f.size === undefined ? 0n : gibFlag("size", f.size),
    format: enumFlag(DiskFormatSchema, "format", f.format),
    bus: enumFlag(DiskBusSchema, "bus", f.bus),
    readonly: f.readonly === true,
    poolId: f.pool ?? "",
  });
  const model = checked(() => diskFromWire(disk, "disk"));
  await withWireFields([model], async () => validateDiskSpec(model, "disk")).catch(usage);
  return disk;
}

export interface NicFlags {
  "nic-id"?: string;
  bridge?: string;
  network?: string;
  mac?: string;
  model?: string;
}

/** The flags' NIC; the node's default network when neither --bridge nor --network is given. */
export async function nicFromFlags(f: NicFlags, defaultNetwork = "default"): Promise<NicSpec> {
  if (!f["nic-id"]) throw new UsageError("--nic-id is required (a name for the NIC within the VM, e.g. eth1)");
  if (f.bridge !== undefined && f.network !== undefined) throw new UsageError("give --bridge (a host bridge) or --network (a libvirt network), not both");
  const nic = create(NicSpecSchema, {
    id: f["nic-id"],
    bridge: f.bridge ?? "",
    network: f.network ?? "",
    macAddress: f.mac ?? "",
    model: enumFlag(NicModelSchema, "model", f.model),
  });
  const model = checked(() => nicFromWire(nic, "nic", { defaultNetwork }));
  await withWireFields([], async () => validateNicSpec(model, "nic")).catch(usage);
  return nic;
}

/** build() reads the flags before anything is sent, so bad usage never waits on the daemon. */
function deviceCommand<T>(
  name: string,
  description: string,
  extra: Record<string, object>,
  examples: string[],
  build: (args: Record<string, unknown>) => T | Promise<T>,
  call: (client: DaemonClient, vmId: string, device: T) => Promise<VMOperationResponse>,
  done: (args: Record<string, unknown>, vm: VMStatusResponse) => string,
) {
  return defineCommand({
    meta: { name, description },
    args: withExamples({ ...vmArg, ...extra, ...clientArgs } as typeof vmArg & typeof clientArgs, examples),
    run: ({ args }) =>
      runClient(args, async ({ conn, out }) => {
        const device = await build(args);
        const ref = await resolveVm(conn.client, args.vm);
        const { vm } = await call(conn.client, ref.id, device);
        if (!vm) throw new Error(`the daemon answered ${name} without the VM's status`);
        if (args.json) return void out(jsonText(VMStatusResponseSchema, vm));
        out(`vm ${vmLabel(ref, vm)}: ${done(args, vm)} (${stateOf(vm)})`);
      }),
  });
}

function requiredId(args: Record<string, unknown>, flag: string): string {
  const v = args[flag];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${flag} is required`);
  return checked(() => validateDeviceId(v, `--${flag}`));
}

export interface MediaFlags {
  cdrom?: string;
  device?: string;
  iso?: string;
  eject?: boolean;
}

/** ChangeMedia's fields from the flags: one drive (--cdrom or --device), one action (--iso or --eject). */
export function mediaFromFlags(f: MediaFlags): { cdromId: string; device: string; isoPath: string } {
  if ((f.cdrom === undefined) === (f.device === undefined))
    throw new UsageError("name the drive with --cdrom ID (as vm get shows it) or --device sdX, one of them");
  if ((f.iso === undefined) === (f.eject !== true)) throw new UsageError("give --iso PATH (insert) or --eject, one of them");
  if (f.iso === "") throw new UsageError("--iso is empty; give an ISO path, or --eject");
  const cdromId = f.cdrom === undefined ? "" : checked(() => validateDeviceId(f.cdrom, "--cdrom"));
  return { cdromId, device: f.device ?? "", isoPath: f.iso ?? "" };
}

/** The drive the flags named, read the way the daemon reads --device; undefined if it cannot say. */
function namedDrive(vm: VMStatusResponse, a: MediaFlags) {
  const s = vm.spec;
  if (!s) return undefined;
  if (a.cdrom !== undefined) return s.cdroms.find((c) => c.id === a.cdrom);
  try {
    return cdromForDevice(s.cdroms, s.disks.length, a.device ?? "");
  } catch {
    return undefined;
  }
}

/** "CD-ROM installer: inserted /path/x.iso" or "CD-ROM installer ejected", as the daemon now has the drive. */
function mediumText(vm: VMStatusResponse, a: MediaFlags): string {
  const drive = namedDrive(vm, a);
  const label = `CD-ROM ${drive?.id ?? a.cdrom ?? a.device}${drive && a.device !== undefined ? ` (${a.device})` : ""}`;
  if (a.eject) return `${label} ejected`;
  return `${label}: inserted ${drive?.resolvedPath || drive?.isoPath || a.iso}`;
}

const s = (description: string, valueHint?: string) => ({ type: "string", description, ...(valueHint ? { valueHint } : {}) }) as const;

export const vmDeviceCommands = {
  "attach-disk": deviceCommand(
    "attach-disk",
    "Attach a new image (--size), an existing one (--path), or a volume (--path NAME) to a VM, live and persistently",
    {
      "disk-id": s("Name of the disk within the VM (detach-disk and volume resize use it)", "id"),
      path: s("An existing image (absolute path), or a volume name in --pool (created with --size when missing)", "path"),
      size: s("Size of a new image, e.g. 10G (rounded up to whole GiB)", "size"),
      format: s(`Format of a new image: ${enumChoices(DiskFormatSchema).join(", ")} (default qcow2)`, "format"),
      bus: s(`Disk bus: ${enumChoices(DiskBusSchema).join(", ")} (default virtio)`, "bus"),
      pool: s("Storage pool of a new image or volume (default: the node's own storage)", "pool"),
      readonly: { type: "boolean", description: "Attach read-only" },
    },
    [
      "vm attach-disk web-1 --disk-id data1 --size 10G --format qcow2",
      "vm attach-disk web-1 --disk-id db --path /var/lib/limiquantix/vms/db.qcow2 --bus scsi",
      "vm attach-disk web-1 --disk-id logs --path logs-web-1 --size 20G --pool fast",
    ],
    (a) => diskFromFlags(a as DiskFlags),
    (client, vmId, disk) => client.attachDisk({ vmId, disk }),
    (a) => `disk ${a["disk-id"]} attached`,
  ),
  "detach-disk": deviceCommand(
    "detach-disk",
    "Detach a disk from a VM (the image file stays)",
    { "disk-id": s("Name of the disk within the VM", "id") },
    ["vm detach-disk web-1 --disk-id data1"],
    (a) => requiredId(a, "disk-id"),
    (client, vmId, diskId) => client.detachDisk({ vmId, diskId }),
    (a) => `disk ${a["disk-id"]} detached`,
  ),
  "attach-nic": deviceCommand(
    "attach-nic",
    "Attach a NIC on a host bridge (--bridge) or a libvirt network (--network; default: the node's default network)",
    {
      "nic-id": s("Name of the NIC within the VM (detach-nic uses it)", "id"),
      bridge: s("Host bridge, e.g. br0", "bridge"),
      network: s("libvirt network, e.g. default", "network"),
      mac: s("MAC address (default: generated, 52:54:00:xx:xx:xx)", "mac"),
      model: s(`NIC model: ${enumChoices(NicModelSchema).join(", ")} (default virtio)`, "model"),
    },
    ["vm attach-nic web-1 --nic-id eth1 --network default", "vm attach-nic web-1 --nic-id eth2 --bridge br0 --mac 52:54:00:12:34:56 --model e1000"],
    (a) => nicFromFlags(a as NicFlags),
    (client, vmId, nic) => client.attachNIC({ vmId, nic }),
    (a) => `nic ${a["nic-id"]} attached`,
  ),
  "detach-nic": deviceCommand(
    "detach-nic",
    "Detach a NIC from a VM",
    { "nic-id": s("Name of the NIC within the VM", "id") },
    ["vm detach-nic web-1 --nic-id eth1"],
    (a) => requiredId(a, "nic-id"),
    (client, vmId, nicId) => client.detachNIC({ vmId, nicId }),
    (a) => `nic ${a["nic-id"]} detached`,
  ),
  media: deviceCommand(
    "media",
    "Insert an ISO into a VM's CD-ROM (--iso) or eject it (--eject), live and persistently",
    {
      cdrom: s("The CD-ROM's id, as vm get lists it", "id"),
      device: s("The CD-ROM as the control plane names it: sd + a letter counted after the VM's disks (e.g. sdb)", "sdX"),
      iso: s("ISO to insert: an absolute path, or a path in a storage pool (e.g. iso/debian-12.iso; see pool files)", "path"),
      eject: { type: "boolean", description: "Eject the medium (the drive stays, empty)" },
    },
    [
      "vm media web-1 --cdrom installer --iso iso/debian-12.iso",
      "vm media web-1 --cdrom installer --eject",
      "vm media web-1 --device sdb --iso /var/lib/limiquantix/vms/iso/virtio-win.iso",
    ],
    (a) => mediaFromFlags(a as MediaFlags),
    (client, vmId, media) => client.changeMedia({ vmId, ...media }),
    (a, vm) => mediumText(vm, a as MediaFlags),
  ),
};
