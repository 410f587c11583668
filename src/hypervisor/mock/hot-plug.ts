// Device hot-plug with libvirt's rules: on a running VM the change is live and persistent, on a
// stopped VM persistent only; other states are refused. SATA and IDE have no hot-plug in qemu.

import { HypervisorError, isHypervisorError } from "../errors.ts";
import type { DiskSpec, NicSpec, VmSpec, VmStatus } from "../types.ts";
import { validateDiskSpec, validateNicSpec, validateVmSpec } from "../validation.ts";
import { changed, deepFreeze, emitVm, invalidState, type MockContext, type MockVm, refuseBusy, statusOf, withVm } from "./context.ts";
import { hotplugBus } from "../hotplug-bus.ts";
import { resolveIsoPath } from "../storage/index.ts";
import { resolveDisk, resolveNic } from "./devices.ts";
import { mockFs, poolDirs, resolveImages } from "./storage.ts";

function requireRunningOrStopped(vm: MockVm): void {
  refuseBusy(vm);
  if (vm.state !== "running" && vm.state !== "stopped") {
    throw invalidState(vm, `is ${vm.state}; devices can be changed only on a running or stopped vm`);
  }
}

/** Checks the whole VM with the device added, reporting the new device's fields under `field`. */
function validateWith(spec: VmSpec, list: "disks" | "nics", index: number, field: string): void {
  try {
    // The VM's own spec: it holds the node's CD-ROMs too.
    validateVmSpec(spec, "spec", { allowNodeCdroms: true });
  } catch (err) {
    const prefix = `spec.${list}[${index}]`;
    if (isHypervisorError(err) && err.field?.startsWith(prefix)) {
      const renamed = field + err.field.slice(prefix.length);
      throw new HypervisorError(err.kind, renamed + err.message.slice(err.field.length), renamed);
    }
    throw err;
  }
}

function commit(ctx: MockContext, vm: MockVm, spec: VmSpec): VmStatus {
  vm.spec = deepFreeze(spec);
  changed(vm);
  return statusOf(ctx, vm, ctx.now());
}

export function attachDisk(ctx: MockContext, id: string, disk: DiskSpec): Promise<VmStatus> {
  validateDiskSpec(disk, "disk");
  return withVm(ctx, id, async (vm) => {
    requireRunningOrStopped(vm);
    if (vm.spec.disks.some((d) => d.id === disk.id)) {
      throw new HypervisorError("already_exists", `disk "${disk.id}" already exists on vm ${id}`);
    }
    const { target: _t, resolvedPath: _r, ...requested } = structuredClone(disk);
    requested.bus = hotplugBus(disk.bus, vm.state === "running");
    const [image] = await resolveImages(ctx, id, [requested], () => "disk");
    const resolved = resolveDisk(image!, vm.spec.disks);
    const spec = { ...vm.spec, disks: [...vm.spec.disks, resolved] };
    validateWith(spec, "disks", spec.disks.length - 1, "disk");
    const status = commit(ctx, vm, spec);
    const busNote = resolved.bus === disk.bus ? "" : ` on ${resolved.bus} (${disk.bus} has no hot-plug)`;
    emitVm(ctx, vm, "disk_attached", `disk ${disk.id} attached to vm ${vm.spec.name} as ${resolved.target}${busNote}`, {
      disk: disk.id,
      target: resolved.target ?? "",
      live: String(vm.state === "running"),
    });
    return status;
  });
}

export function detachDisk(ctx: MockContext, id: string, diskId: string): Promise<VmStatus> {
  return withVm(ctx, id, (vm) => {
    requireRunningOrStopped(vm);
    const disk = vm.spec.disks.find((d) => d.id === diskId);
    if (!disk) throw new HypervisorError("not_found", `disk "${diskId}" not found on vm ${id}`);
    if (vm.state === "running" && hotplugBus(disk.bus, true) !== disk.bus) {
      throw new HypervisorError("unsupported", `disk ${diskId} is on ${disk.bus}, which has no hot-unplug; stop vm ${id} first`);
    }
    const status = commit(ctx, vm, { ...vm.spec, disks: vm.spec.disks.filter((d) => d.id !== diskId) });
    emitVm(ctx, vm, "disk_detached", `disk ${diskId} detached from vm ${vm.spec.name}`, { disk: diskId });
    return status;
  });
}

export function attachNic(ctx: MockContext, id: string, nic: NicSpec): Promise<VmStatus> {
  validateNicSpec(nic, "nic");
  return withVm(ctx, id, (vm) => {
    requireRunningOrStopped(vm);
    if (vm.spec.nics.some((n) => n.id === nic.id)) {
      throw new HypervisorError("already_exists", `nic "${nic.id}" already exists on vm ${id}`);
    }
    const resolved = resolveNic(structuredClone(nic), vm.spec.nics, ctx.random);
    const spec = { ...vm.spec, nics: [...vm.spec.nics, resolved] };
    validateWith(spec, "nics", spec.nics.length - 1, "nic");
    const status = commit(ctx, vm, spec);
    emitVm(ctx, vm, "nic_attached", `nic ${nic.id} (${resolved.mac}) attached to vm ${vm.spec.name}`, {
      nic: nic.id,
      mac: resolved.mac ?? "",
      live: String(vm.state === "running"),
    });
    return status;
  });
}

export function detachNic(ctx: MockContext, id: string, nicId: string): Promise<VmStatus> {
  return withVm(ctx, id, (vm) => {
    requireRunningOrStopped(vm);
    if (!vm.spec.nics.some((n) => n.id === nicId)) {
      throw new HypervisorError("not_found", `nic "${nicId}" not found on vm ${id}`);
    }
    const status = commit(ctx, vm, { ...vm.spec, nics: vm.spec.nics.filter((n) => n.id !== nicId) });
    emitVm(ctx, vm, "nic_detached", `nic ${nicId} detached from vm ${vm.spec.name}`, { nic: nicId });
    return status;
  });
}

/** Inserts or ejects a CD-ROM's medium; live on a running VM, in the definition otherwise. */
export function changeMedia(ctx: MockContext, id: string, cdromId: string, medium: { path?: string; volume?: string }): Promise<VmStatus> {
  return withVm(ctx, id, async (vm) => {
    refuseBusy(vm);
    const index = vm.spec.disks.findIndex((d) => d.id === cdromId && d.device === "cdrom");
    if (index < 0) throw new HypervisorError("not_found", `CD-ROM "${cdromId}" not found on vm ${id}`);
    const fs = mockFs(ctx);
    let resolvedPath: string | undefined;
    if (medium.path !== undefined) {
      if (!(await fs.isFile(medium.path))) throw new HypervisorError("not_found", `iso_path: ${medium.path} does not exist`, "iso_path");
      resolvedPath = medium.path;
    } else if (medium.volume !== undefined) {
      resolvedPath = await resolveIsoPath(medium.volume, poolDirs(ctx), [ctx.opts.isoImagesDir], fs);
    }
    const { path: _p, volume: _v, resolvedPath: _r, ...drive } = vm.spec.disks[index]!;
    const next = { ...drive, ...medium, ...(resolvedPath !== undefined ? { resolvedPath } : {}) };
    const status = commit(ctx, vm, { ...vm.spec, disks: vm.spec.disks.map((d, i) => (i === index ? next : d)) });
    const what = resolvedPath === undefined ? "ejected" : `inserted ${resolvedPath}`;
    emitVm(ctx, vm, "media_changed", `CD-ROM ${cdromId} of vm ${vm.spec.name}: ${what}`, { cdrom: cdromId, medium: resolvedPath ?? "" });
    return status;
  });
}
