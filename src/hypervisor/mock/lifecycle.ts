// Create, power and delete operations with libvirt's state machine and error kinds.

import { specsEqual } from "../defaults.ts";
import { HypervisorError, invalidArgument, notFound } from "../errors.ts";
import type { VmSpec, VmStatus } from "../types.ts";
import { validateVmId, validateVmSpec } from "../validation.ts";
import { changed, deepFreeze, emitVm, IGNORE_ACPI_LABEL, type MockContext, type MockVm, removeVm, setState, statusOf, withVm } from "./context.ts";
import { posix } from "node:path";
import { cloudInitIsoName, withNodeCdroms } from "../storage/index.ts";
import { resolveDevices } from "./devices.ts";
import { recordedVolume, resolveImages } from "./storage.ts";

/** The request field of disk i of a spec's disk list (disks and CD-ROMs are separate lists on the wire). */
export function diskField(disks: readonly { device: string }[], i: number): string {
  const device = disks[i]!.device;
  const index = disks.slice(0, i).filter((d) => d.device === device).length;
  return `spec.${device === "cdrom" ? "cdroms" : "disks"}[${index}]`;
}
import { createMetricState } from "./metrics.ts";
import { checkDelete, checkTransition } from "../transitions.ts";

export async function createVm(ctx: MockContext, id: string, spec: VmSpec): Promise<{ vm: VmStatus; created: boolean }> {
  validateVmId(id);
  validateVmSpec(spec);
  return ctx.locks.run(id, async () => {
    if (ctx.closed) throw new HypervisorError("unavailable", "the mock hypervisor is closed");
    const existing = ctx.vms.get(id);
    if (existing) {
      if (specsEqual(existing.request, spec)) return { vm: statusOf(ctx, existing, ctx.now()), created: false };
      throw new HypervisorError("already_exists", `vm ${id} already exists with a different spec; delete it first or use another id`);
    }
    const holder = ctx.names.get(spec.name);
    if (holder !== undefined) {
      throw new HypervisorError("already_exists", `a vm named "${spec.name}" already exists on this node (id ${holder})`);
    }
    const request = deepFreeze(structuredClone(spec));
    const copy = structuredClone(spec);
    // The cloud-init ISO is not written (the mock has no guest to read it); its path is where libvirt's would be.
    const iso = spec.cloudInit ? posix.join(ctx.opts.storagePath, cloudInitIsoName(id)) : undefined;
    const withNode = withNodeCdroms(copy.disks, iso);
    const images = await resolveImages(ctx, id, withNode, (i) => diskField(withNode, i));
    const devices = resolveDevices(images, copy.nics, ctx.random);
    const now = ctx.now();
    const vm: MockVm = {
      id,
      spec: deepFreeze({ ...copy, ...devices }),
      request,
      state: "stopped",
      stateReason: "created",
      createdAt: now,
      snapshots: new Map(),
      metrics: createMetricState(now, ctx.random),
      revision: 0,
      watchers: new Set(),
      removed: false,
    };
    ctx.vms.set(id, vm);
    ctx.names.set(spec.name, id);
    ctx.events.emit({ type: "vm_created", vmId: id, vmName: spec.name, state: "stopped", message: `vm ${spec.name} created` });
    return { vm: statusOf(ctx, vm, now), created: true };
  });
}

export function startVm(ctx: MockContext, id: string): Promise<VmStatus> {
  return withVm(ctx, id, async (vm) => {
    checkTransition(id, "start", vm.state);
    if (vm.state === "suspended") {
      setState(ctx, vm, "running", "woken up");
      return statusOf(ctx, vm, ctx.now());
    }
    // A crashed guest's process goes before the new boot (libvirt: destroy, then create).
    if (vm.state === "crashed") setState(ctx, vm, "stopped", "crashed process removed before the restart");
    if (ctx.opts.bootMs > 0) await ctx.timers.sleep(ctx.opts.bootMs);
    setState(ctx, vm, "running", "booted");
    return statusOf(ctx, vm, ctx.now());
  });
}

type StopOutcome = "stopped" | "gave_up" | "removed" | "closed" | "timeout";

export async function stopVm(ctx: MockContext, id: string, timeoutMs: number): Promise<VmStatus> {
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw invalidArgument("timeout_seconds", `must not be negative, got ${timeoutMs}`);
  const vm = await withVm(ctx, id, (vm) => {
    checkTransition(id, "stop", vm.state);
    if (vm.state === "shutting_down") return vm; // a second request joins the first
    setState(ctx, vm, "shutting_down", "ACPI shutdown requested");
    if (vm.spec.labels[IGNORE_ACPI_LABEL] !== "true") {
      vm.cancelAcpi = ctx.timers.after(ctx.opts.acpiShutdownMs, () => {
        ctx.locks
          .run(id, () => {
            if (!vm.removed && vm.state === "shutting_down") setState(ctx, vm, "stopped", "shut down by the guest");
          })
          .catch(() => {});
      });
    }
    return vm;
  });

  const outcome = await new Promise<StopOutcome>((resolve) => {
    const check = () => {
      if (ctx.closed) finish("closed");
      else if (vm.removed) finish("removed");
      else if (vm.state === "stopped") finish("stopped");
      else if (vm.state !== "shutting_down") finish("gave_up");
    };
    const finish = (o: StopOutcome) => {
      vm.watchers.delete(check);
      cancelTimer();
      resolve(o);
    };
    const cancelTimer = ctx.timers.after(timeoutMs, () => finish("timeout"));
    vm.watchers.add(check);
    check();
  });

  switch (outcome) {
    case "stopped":
      return statusOf(ctx, vm, ctx.now());
    case "removed":
      throw notFound(id);
    case "closed":
      throw new HypervisorError("unavailable", "the mock hypervisor was closed while the vm was shutting down");
    case "timeout":
      // A guest that ignores ACPI simply keeps running; one that is merely slow still powers off.
      await ctx.locks.run(id, () => {
        if (!vm.removed && vm.state === "shutting_down" && vm.cancelAcpi === undefined) {
          setState(ctx, vm, "running", "the guest ignored the ACPI shutdown request");
        }
      });
      break;
    case "gave_up":
      break;
  }
  throw new HypervisorError("timeout", `vm ${id} did not shut down within ${timeoutMs} ms; the guest may ignore ACPI: force stop it to power it off`);
}

export function forceStopVm(ctx: MockContext, id: string): Promise<VmStatus> {
  return withVm(ctx, id, (vm) => {
    checkTransition(id, "force_stop", vm.state);
    // Pulling the plug during a migration ends the migration too (its source process is gone).
    vm.abortMigration?.();
    setState(ctx, vm, "stopped", "powered off (forced)");
    return statusOf(ctx, vm, ctx.now());
  });
}

export function rebootVm(ctx: MockContext, id: string): Promise<VmStatus> {
  return withVm(ctx, id, (vm) => {
    checkTransition(id, "reboot", vm.state);
    vm.stateReason = "rebooted";
    changed(vm);
    ctx.events.emit({
      type: "vm_state_changed",
      vmId: vm.id,
      vmName: vm.spec.name,
      state: "running",
      previousState: "running",
      message: `vm ${vm.spec.name} rebooted`,
      details: { operation: "reboot" },
    });
    return statusOf(ctx, vm, ctx.now());
  });
}

export function pauseVm(ctx: MockContext, id: string): Promise<VmStatus> {
  return withVm(ctx, id, (vm) => {
    checkTransition(id, "pause", vm.state);
    setState(ctx, vm, "paused", "paused by user");
    return statusOf(ctx, vm, ctx.now());
  });
}

export function resumeVm(ctx: MockContext, id: string): Promise<VmStatus> {
  return withVm(ctx, id, (vm) => {
    checkTransition(id, "resume", vm.state);
    setState(ctx, vm, "running", "resumed by user");
    return statusOf(ctx, vm, ctx.now());
  });
}

export function deleteVm(ctx: MockContext, id: string, opts: { deleteDisks: boolean; force: boolean }): Promise<{ deletedDisks: string[] }> {
  return withVm(ctx, id, (vm) => {
    if (checkDelete(id, vm.state, opts.force).forceStopFirst) setState(ctx, vm, "stopped", "powered off (forced) for deletion");
    // Only writable disks are the VM's own: a read-only image or an ISO may be shared. The mock
    // deletes (and reports) only the volumes it made; it never touches a real file.
    const deletedDisks = opts.deleteDisks
      ? vm.spec.disks.flatMap((d) => (d.device === "disk" && !d.readonly && recordedVolume(ctx, d.resolvedPath) ? [d.resolvedPath!] : []))
      : [];
    for (const path of deletedDisks) ctx.storage.volumes.delete(path);
    removeVm(ctx, vm);
    emitVm(ctx, vm, "vm_deleted", `vm ${vm.spec.name} deleted`, deletedDisks.length ? { deletedDisks: deletedDisks.join(",") } : undefined);
    return { deletedDisks };
  });
}
