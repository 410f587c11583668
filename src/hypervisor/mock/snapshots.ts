// Snapshot tree per VM: each snapshot's parent is the snapshot that was current when it was
// taken; revert brings back the VM's state and spec of that moment; deleting a snapshot hands
// its children to its parent, as libvirt does.

import { HypervisorError } from "../errors.ts";
import type { Snapshot, SnapshotOptions, VmState, VmStatus } from "../types.ts";
import { validateSnapshotName } from "../validation.ts";
import { changed, emitVm, type MockContext, type MockVm, refuseBusy, type SnapshotRecord, setState, statusOf, withVm } from "./context.ts";

const snapshotNotFound = (vm: MockVm, name: string) => new HypervisorError("not_found", `snapshot "${name}" of vm ${vm.id} not found`);

function toSnapshot(vm: MockVm, s: SnapshotRecord): Snapshot {
  return {
    vmId: vm.id,
    name: s.name,
    description: s.description,
    createdAt: new Date(s.createdAt),
    parent: s.parent,
    vmState: s.vmState,
    current: vm.currentSnapshot === s.name,
    hasMemory: s.hasMemory,
  };
}

/** libvirt names an unnamed snapshot after the epoch second it was taken. */
function generatedName(vm: MockVm, now: number): string {
  const base = String(Math.floor(now / 1000));
  let name = base;
  for (let i = 2; vm.snapshots.has(name); i++) name = `${base}-${i}`;
  return name;
}

export function createSnapshot(ctx: MockContext, id: string, opts: SnapshotOptions): Promise<Snapshot> {
  if (opts.name !== undefined && opts.name !== "") validateSnapshotName(opts.name, "name");
  return withVm(ctx, id, (vm) => {
    refuseBusy(vm);
    const now = ctx.now();
    const name = opts.name || generatedName(vm, now);
    if (vm.snapshots.has(name)) {
      throw new HypervisorError("already_exists", `snapshot "${name}" of vm ${id} already exists`);
    }
    const live = vm.state === "running" || vm.state === "paused";
    const record: SnapshotRecord = {
      name,
      description: opts.description ?? "",
      createdAt: now,
      parent: vm.currentSnapshot,
      vmState: vm.state,
      hasMemory: opts.includeMemory && live,
      spec: vm.spec,
    };
    vm.snapshots.set(name, record);
    vm.currentSnapshot = name;
    changed(vm);
    // The mock's guests run no agent: a quiesced snapshot is taken crash-consistent, as libvirt's
    // backend does for a guest whose agent does not answer.
    const how = opts.quiesce ? ", not quiesced: no guest agent answered" : "";
    emitVm(ctx, vm, "snapshot_created", `snapshot ${name} of vm ${vm.spec.name} created${how}`, {
      snapshot: name,
      ...(record.parent ? { parent: record.parent } : {}),
      ...(opts.quiesce ? { quiesced: "false" } : {}),
    });
    return { ...toSnapshot(vm, record), ...(opts.quiesce ? { quiesced: false } : {}) };
  });
}

export function revertSnapshot(ctx: MockContext, id: string, name: string): Promise<VmStatus> {
  return withVm(ctx, id, (vm) => {
    refuseBusy(vm);
    const snap = vm.snapshots.get(name);
    if (!snap) throw snapshotNotFound(vm, name);
    // Without saved memory the guest can only come back powered off (disks as they were).
    const target: VmState = snap.hasMemory && (snap.vmState === "running" || snap.vmState === "paused") ? snap.vmState : "stopped";
    const spec = snap.spec;
    if (target === "stopped" && vm.state !== "stopped") setState(ctx, vm, "stopped", `reverting to snapshot ${name}`);
    // The devices of that moment come back; a running guest's console follows the restored spec.
    vm.spec = spec;
    if (target !== vm.state) setState(ctx, vm, target, `reverted to snapshot ${name}`);
    vm.currentSnapshot = name;
    changed(vm);
    emitVm(ctx, vm, "snapshot_reverted", `vm ${vm.spec.name} reverted to snapshot ${name}`, { snapshot: name });
    return statusOf(ctx, vm, ctx.now());
  });
}

export function deleteSnapshot(ctx: MockContext, id: string, name: string): Promise<void> {
  return withVm(ctx, id, (vm) => {
    if (vm.state === "migrating") refuseBusy(vm);
    const snap = vm.snapshots.get(name);
    if (!snap) throw snapshotNotFound(vm, name);
    for (const child of vm.snapshots.values()) if (child.parent === name) child.parent = snap.parent;
    vm.snapshots.delete(name);
    if (vm.currentSnapshot === name) vm.currentSnapshot = snap.parent;
    changed(vm);
    emitVm(ctx, vm, "snapshot_deleted", `snapshot ${name} of vm ${vm.spec.name} deleted`, { snapshot: name });
  });
}

export function listSnapshots(ctx: MockContext, id: string): Promise<Snapshot[]> {
  return withVm(ctx, id, (vm) => [...vm.snapshots.values()].map((s) => toSnapshot(vm, s)));
}
