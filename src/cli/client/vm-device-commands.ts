// Hot-plug: attach and detach disks and NICs of a VM. The device built from the flags is
// checked with the API's own conversion and rules before it is sent.

import { create } from "@bufbuild/protobuf";
import { defineCommand } from "citty";
import {
  DiskBusSchema,
  type DiskSpec,
  DiskSpecSchema,
  DiskFormatSchema,
  NewDiskImageSchema,
  NicModelSchema,
  type NicSpec,
  NicSpecSchema,
  type VMOperationResponse,
  VMStatusSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { HypervisorError } from "../../hypervisor/errors.ts";
import { validateDiskSpec, validateNicSpec } from "../../hypervisor/validation.ts";
import { diskFromWire, nicFromWire } from "../../server/convert/vm-spec.ts";
import { UsageError } from "../usage-error.ts";
import { clientArgs, withExamples } from "./client-args.ts";
import type { DaemonClient } from "./connection.ts";
import { runClient } from "./failures.ts";
import { enumChoices, jsonText, parseEnum, parseSize } from "./format.ts";
import { resolveVm, vmLabel } from "./resolve-vm.ts";
import { stateOf } from "./vm-view-commands.ts";

const vmArg = { vm: { type: "positional", description: "VM name or id", required: true } } as const;

function enumFlag(desc: Parameters<typeof parseEnum>[0], flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = parseEnum(desc, value);
  if (n === undefined) throw new UsageError(`--${flag} ${JSON.stringify(value)}: must be one of ${enumChoices(desc).join(", ")}`);
  return n;
}

/** Runs the API's checks; their failures are bad usage here (nothing was sent yet). */
function checked(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof HypervisorError || (err instanceof Error && err.name === "ConnectError")) throw new UsageError(err.message.replace(/^\[\w+\] /, ""));
    throw err;
  }
}

export interface DiskFlags {
  "disk-id"?: string;
  path?: string;
  size?: string;
  format?: string;
  bus?: string;
  readonly?: boolean;
}

export function diskFromFlags(f: DiskFlags): DiskSpec {
  if (!f["disk-id"]) throw new UsageError("--disk-id is required (a name for the disk within the VM, e.g. data1)");
  if ((f.path === undefined) === (f.size === undefined)) throw new UsageError("give either --path (an existing image) or --size (a new image)");
  let source: DiskSpec["source"];
  if (f.path !== undefined) {
    if (f.format !== undefined) throw new UsageError("--format is for a new image (--size), not --path");
    source = { case: "path", value: f.path };
  } else {
    const size = parseSize(f.size!);
    if (size === undefined) throw new UsageError(`--size ${JSON.stringify(f.size)}: give a size like 10G or 512M`);
    source = { case: "newImage", value: create(NewDiskImageSchema, { sizeBytes: BigInt(size), format: enumFlag(DiskFormatSchema, "format", f.format) }) };
  }
  const disk = create(DiskSpecSchema, { id: f["disk-id"], source, bus: enumFlag(DiskBusSchema, "bus", f.bus), readonly: f.readonly === true });
  checked(() => validateDiskSpec(diskFromWire(disk, "disk"), "disk"));
  return disk;
}

export interface NicFlags {
  "nic-id"?: string;
  bridge?: string;
  network?: string;
  mac?: string;
  model?: string;
}

export function nicFromFlags(f: NicFlags): NicSpec {
  if (!f["nic-id"]) throw new UsageError("--nic-id is required (a name for the NIC within the VM, e.g. eth1)");
  if ((f.bridge === undefined) === (f.network === undefined)) throw new UsageError("give either --bridge (a host bridge) or --network (a libvirt network)");
  const attachment: NicSpec["attachment"] = f.bridge !== undefined ? { case: "bridge", value: f.bridge } : { case: "network", value: f.network! };
  const nic = create(NicSpecSchema, { id: f["nic-id"], attachment, mac: f.mac ?? "", model: enumFlag(NicModelSchema, "model", f.model) });
  checked(() => validateNicSpec(nicFromWire(nic, "nic"), "nic"));
  return nic;
}

/** build() reads the flags before anything is sent, so bad usage never waits on the daemon. */
function deviceCommand<T>(
  name: string,
  description: string,
  extra: Record<string, object>,
  examples: string[],
  build: (args: Record<string, unknown>) => T,
  call: (client: DaemonClient, vmId: string, device: T) => Promise<VMOperationResponse>,
  done: (args: Record<string, unknown>) => string,
) {
  return defineCommand({
    meta: { name, description },
    args: withExamples({ ...vmArg, ...extra, ...clientArgs } as typeof vmArg & typeof clientArgs, examples),
    run: ({ args }) =>
      runClient(args, async ({ conn, out }) => {
        const device = build(args);
        const ref = await resolveVm(conn.client, args.vm);
        const { vm } = await call(conn.client, ref.id, device);
        if (args.json) return void out(jsonText(VMStatusSchema, vm!));
        out(`vm ${vmLabel(ref, vm)}: ${done(args)} (${stateOf(vm!)})`);
      }),
  });
}

function requiredId(args: Record<string, unknown>, flag: string): string {
  const v = args[flag];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${flag} is required`);
  return v;
}

const s = (description: string, valueHint?: string) => ({ type: "string", description, ...(valueHint ? { valueHint } : {}) }) as const;

export const vmDeviceCommands = {
  "attach-disk": deviceCommand(
    "attach-disk",
    "Attach an existing image (--path) or a new one (--size) to a VM, live and persistently",
    {
      "disk-id": s("Name of the disk within the VM (detach-disk uses it)", "id"),
      path: s("Existing image or block device on the host", "path"),
      size: s("Create a new image of this size in the storage path, e.g. 10G", "size"),
      format: s(`Format of the new image: ${enumChoices(DiskFormatSchema).join(", ")} (default qcow2)`, "format"),
      bus: s(`Disk bus: ${enumChoices(DiskBusSchema).join(", ")} (default virtio)`, "bus"),
      readonly: { type: "boolean", description: "Attach read-only" },
    },
    ["vm attach-disk web-1 --disk-id data1 --size 10G --format qcow2", "vm attach-disk web-1 --disk-id db --path /var/lib/limiquantix/vms/db.qcow2 --bus scsi"],
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
    "Attach a NIC on a host bridge (--bridge) or a libvirt network (--network)",
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
};
