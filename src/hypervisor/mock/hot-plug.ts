// Device hot-plug with libvirt's rules: on a running VM the change is live and persistent, on a
// stopped VM persistent only; other states are refused. SATA and IDE have no hot-plug in qemu.

import { HypervisorError, isHypervisorError } from "../errors.ts";
import type { DiskSpec, NicSpec, VmSpec, VmStatus } from "../types.ts";
import { validateDiskSpec, validateNicSpec, validateVmSpec } from "../validation.ts";
import { changed, deepFreeze, emitVm, invalidState, type MockContext, type MockVm, refuseBusy, statusOf, withVm } from "./context.ts";
import { resolveDisk, resolveNic } from "./devices.ts";

function requireRunningOrStopped(vm: MockVm): void {
  refuseBusy(vm);
  if (vm.state !== "running" && vm.state !== "stopped") {
    throw invalidState(vm, `is ${vm.state}; devices can be changed only on a running or stopped vm`);
  }
}

function refuseLiveBus(vm: MockVm, disk: DiskSpec): void {
  if (vm.state === "running" && (disk.bus === "sata" || disk.bus === "ide")) {
    throw new HypervisorError(
      "unsupported",
      `disk bus ${disk.bus} cannot be hot-plugged on running vm ${vm.id}; use virtio or scsi, or stop the vm first`,
    );
  }
}

/** Checks the whole VM with the device added, reporting the new device's fields under `field`. */
function validateWith(spec: VmSpec, list: "disks" | "nics", index: number, field: string): void {
  try {
    validateVmSpec(spec);
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
  return withVm(ctx, id, (vm) => {
    requireRunningOrStopped(vm);
    if (vm.spec.disks.some((d) => d.id === disk.id)) {
      throw new HypervisorError("already_exists", `disk "${disk.id}" already exists on vm ${id}`);
    }
    refuseLiveBus(vm, disk);
    const { target: _t, resolvedPath: _r, ...requested } = structuredClone(disk);
    const resolved = resolveDisk(requested, id, ctx.opts.storagePath, vm.spec.disks);
    const spec = { ...vm.spec, disks: [...vm.spec.disks, resolved] };
    validateWith(spec, "disks", spec.disks.length - 1, "disk");
    const status = commit(ctx, vm, spec);
    emitVm(ctx, vm, "disk_attached", `disk ${disk.id} attached to vm ${vm.spec.name} as ${resolved.target}`, {
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
    refuseLiveBus(vm, disk);
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
