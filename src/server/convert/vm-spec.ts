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
import {
  diskWithDefaults,
  type DiskSpecInput,
  nicWithDefaults,
  type NicSpecInput,
  withDefaults,
} from "../../hypervisor/defaults.ts";
import { invalidField } from "../errors.ts";
import { consoleType, cpuMode, diskBus, diskDevice, diskFormat, firmware, nicModel } from "./enums.ts";

/** Proto3 zero values mean "not set": the hypervisor's defaults (defaults.ts) fill them. */
const unset = <T>(v: T): T | undefined => (v === "" || v === 0 ? undefined : v);

function known<T>(value: T | undefined, field: string, raw: number, names: string[]): T | undefined {
  if (raw === 0) return undefined;
  if (value === undefined) throw invalidField(field, `unknown value ${raw}; allowed: ${names.join(", ")}`);
  return value;
}

/** uint64 sizes arrive as bigint; anything past 2^53 is far beyond every limit anyway. */
function safeNumber(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidField(field, `value ${v} is too large`);
  return Number(v);
}

function diskInput(p: PDiskSpec, field: string): DiskSpecInput {
  const img = p.source.case === "newImage" ? p.source.value : undefined;
  return {
    id: p.id,
    path: p.source.case === "path" ? p.source.value : undefined,
    newImage: img && {
      sizeBytes: safeNumber(img.sizeBytes, `${field}.new_image.size_bytes`),
      format: known(diskFormat.fromWire(img.format), `${field}.new_image.format`, img.format, diskFormat.names),
      backingPath: unset(img.backingPath),
    },
    bus: known(diskBus.fromWire(p.bus), `${field}.bus`, p.bus, diskBus.names),
    bootOrder: p.bootOrder,
    readonly: p.readonly || undefined,
    device: known(diskDevice.fromWire(p.device), `${field}.device`, p.device, diskDevice.names),
  };
}

function nicInput(p: PNicSpec, field: string): NicSpecInput {
  return {
    id: p.id,
    bridge: p.attachment.case === "bridge" ? p.attachment.value : undefined,
    network: p.attachment.case === "network" ? p.attachment.value : undefined,
    mac: unset(p.mac.toLowerCase()),
    model: known(nicModel.fromWire(p.model), `${field}.model`, p.model, nicModel.names),
  };
}

export const diskFromWire = (p: PDiskSpec, field: string): DiskSpec => diskWithDefaults(stripUndefined(diskInput(p, field)));
export const nicFromWire = (p: PNicSpec, field: string): NicSpec => nicWithDefaults(stripUndefined(nicInput(p, field)));

export function vmSpecFromWire(p: VMSpec | undefined, field = "spec"): VmSpec {
  if (!p) throw invalidField(field, "is required");
  const cpu = p.cpu;
  const console = p.console;
  return withDefaults(
    stripUndefined({
      name: p.name,
      cpu: cpu && stripUndefined({
        sockets: unset(cpu.sockets),
        coresPerSocket: unset(cpu.coresPerSocket),
        threadsPerCore: unset(cpu.threadsPerCore),
        mode: known(cpuMode.fromWire(cpu.mode), `${field}.cpu.mode`, cpu.mode, cpuMode.names),
        model: unset(cpu.model),
      }),
      memoryMib: safeNumber(p.memory?.sizeMib ?? 0n, `${field}.memory.size_mib`),
      hugepages: p.memory?.hugepages,
      disks: p.disks.map((d, i) => stripUndefined(diskInput(d, `${field}.disks[${i}]`))),
      nics: p.nics.map((n, i) => stripUndefined(nicInput(n, `${field}.nics[${i}]`))),
      firmware: known(firmware.fromWire(p.firmware), `${field}.firmware`, p.firmware, firmware.names),
      console: console && stripUndefined({
        type: known(consoleType.fromWire(console.type), `${field}.console.type`, console.type, consoleType.names),
        password: unset(console.password),
        listen: unset(console.listen),
      }),
      hostDevices: p.hostDevices.map((h) => ({ pciAddress: h.pciAddress.toLowerCase(), romBar: !h.disableRomBar })),
      labels: { ...p.labels },
      description: p.description,
    }),
  );
}

/** exactOptionalPropertyTypes-style objects: a key is absent, never present with undefined. */
function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
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

/**
 * Wire specs of frozen model specs. The mock (and any backend that shares one frozen spec per VM
 * until it changes) hands out the same spec object on every read, so ListVMs over 10,000 VMs
 * converts each spec once instead of once per call (bench/: scale). Callers must treat the
 * returned message as read-only; it is shared between responses.
 */
const wireSpecs = new WeakMap<VmSpec, VMSpec>();

/** The console password is a secret: status and listings never carry it (GetConsole does). */
export function vmSpecToWire(s: VmSpec): VMSpec {
  // Looked up first: a frozen object stays frozen, and isFrozen walks every property.
  const cached = wireSpecs.get(s);
  if (cached) return cached;
  const wire = convertSpec(s);
  if (Object.isFrozen(s)) wireSpecs.set(s, wire);
  return wire;
}

function convertSpec(s: VmSpec): VMSpec {
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
    hostDevices: s.hostDevices.map((h) => ({ pciAddress: h.pciAddress, disableRomBar: !h.romBar })),
    labels: { ...s.labels },
    description: s.description,
  });
}
