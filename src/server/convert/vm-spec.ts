// VMSpec on the wire <-> VmSpec in the hypervisor model. Reading from the wire fills defaults
// for UNSPECIFIED enums and rejects values this build does not know, naming the field;
// deeper rules (ranges, names, uniqueness) live in hypervisor/validation.ts.

import { create } from "@bufbuild/protobuf";
import {
  type DiskSpec as PDiskSpec,
  DiskSpecSchema,
  type NicSpec as PNicSpec,
  NicSpecSchema,
  type VMSpec,
  VMSpecSchema,
} from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { DiskSpec, NicSpec, VmSpec } from "../../hypervisor/types.ts";
import { invalidField } from "../errors.ts";
import { consoleType, cpuMode, diskBus, diskDevice, diskFormat, firmware, nicModel } from "./enums.ts";

function known<T>(value: T | undefined, field: string, raw: number, names: string[]): T {
  if (value === undefined) throw invalidField(field, `unknown value ${raw}; allowed: ${names.join(", ")}`);
  return value;
}

/** uint64 sizes arrive as bigint; anything past 2^53 is far beyond every limit anyway. */
function safeNumber(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidField(field, `value ${v} is too large`);
  return Number(v);
}

export function diskFromWire(p: PDiskSpec, field: string): DiskSpec {
  const disk: DiskSpec = {
    id: p.id,
    bus: known(diskBus.fromWire(p.bus), `${field}.bus`, p.bus, diskBus.names),
    bootOrder: p.bootOrder,
    readonly: p.readonly,
    device: known(diskDevice.fromWire(p.device), `${field}.device`, p.device, diskDevice.names),
  };
  if (p.source.case === "path") disk.path = p.source.value;
  if (p.source.case === "newImage") {
    const img = p.source.value;
    disk.newImage = {
      sizeBytes: safeNumber(img.sizeBytes, `${field}.new_image.size_bytes`),
      format: known(diskFormat.fromWire(img.format), `${field}.new_image.format`, img.format, diskFormat.names),
      ...(img.backingPath ? { backingPath: img.backingPath } : {}),
    };
  }
  return disk;
}

export function nicFromWire(p: PNicSpec, field: string): NicSpec {
  const nic: NicSpec = {
    id: p.id,
    model: known(nicModel.fromWire(p.model), `${field}.model`, p.model, nicModel.names),
  };
  if (p.attachment.case === "bridge") nic.bridge = p.attachment.value;
  if (p.attachment.case === "network") nic.network = p.attachment.value;
  if (p.mac) nic.mac = p.mac.toLowerCase();
  return nic;
}

export function vmSpecFromWire(p: VMSpec | undefined, field = "spec"): VmSpec {
  if (!p) throw invalidField(field, "is required");
  const cpu = p.cpu;
  const console = p.console;
  return {
    name: p.name,
    cpu: {
      sockets: cpu?.sockets || 1,
      coresPerSocket: cpu?.coresPerSocket || 1,
      threadsPerCore: cpu?.threadsPerCore || 1,
      mode: known(cpuMode.fromWire(cpu?.mode ?? 0), `${field}.cpu.mode`, cpu?.mode ?? 0, cpuMode.names),
      ...(cpu?.model ? { model: cpu.model } : {}),
    },
    memoryMib: safeNumber(p.memory?.sizeMib ?? 0n, `${field}.memory.size_mib`),
    hugepages: p.memory?.hugepages ?? false,
    disks: p.disks.map((d, i) => diskFromWire(d, `${field}.disks[${i}]`)),
    nics: p.nics.map((n, i) => nicFromWire(n, `${field}.nics[${i}]`)),
    firmware: known(firmware.fromWire(p.firmware), `${field}.firmware`, p.firmware, firmware.names),
    console: {
      type: known(consoleType.fromWire(console?.type ?? 0), `${field}.console.type`, console?.type ?? 0, consoleType.names),
      ...(console?.password ? { password: console.password } : {}),
      ...(console?.listen ? { listen: console.listen } : {}),
    },
    hostDevices: p.hostDevices.map((h) => ({ pciAddress: h.pciAddress.toLowerCase(), romBar: h.romBar })),
    labels: { ...p.labels },
    description: p.description,
  };
}

export function diskToWire(d: DiskSpec): PDiskSpec {
  return create(DiskSpecSchema, {
    id: d.id,
    source: d.newImage
      ? {
          case: "newImage",
          value: {
            sizeBytes: BigInt(d.newImage.sizeBytes),
            format: diskFormat.toWire(d.newImage.format),
            backingPath: d.newImage.backingPath ?? "",
          },
        }
      : d.path !== undefined
        ? { case: "path", value: d.path }
        : { case: undefined },
    bus: diskBus.toWire(d.bus),
    bootOrder: d.bootOrder,
    readonly: d.readonly,
    device: diskDevice.toWire(d.device),
    target: d.target ?? "",
    resolvedPath: d.resolvedPath ?? "",
  });
}

export function nicToWire(n: NicSpec): PNicSpec {
  return create(NicSpecSchema, {
    id: n.id,
    attachment: n.bridge
      ? { case: "bridge", value: n.bridge }
      : n.network
        ? { case: "network", value: n.network }
        : { case: undefined },
    mac: n.mac ?? "",
    model: nicModel.toWire(n.model),
  });
}

/** The console password is a secret: status and listings never carry it (GetConsole does). */
export function vmSpecToWire(s: VmSpec): VMSpec {
  return create(VMSpecSchema, {
    name: s.name,
    cpu: {
      sockets: s.cpu.sockets,
      coresPerSocket: s.cpu.coresPerSocket,
      threadsPerCore: s.cpu.threadsPerCore,
      mode: cpuMode.toWire(s.cpu.mode),
      model: s.cpu.model ?? "",
    },
    memory: { sizeMib: BigInt(s.memoryMib), hugepages: s.hugepages },
    disks: s.disks.map(diskToWire),
    nics: s.nics.map(nicToWire),
    firmware: firmware.toWire(s.firmware),
    console: { type: consoleType.toWire(s.console.type), listen: s.console.listen ?? "" },
    hostDevices: s.hostDevices.map((h) => ({ pciAddress: h.pciAddress, romBar: h.romBar })),
    labels: { ...s.labels },
    description: s.description,
  });
}
