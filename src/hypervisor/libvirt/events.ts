// libvirt's domain events -> HypervisorEvents. libvirt is the source of every state change
// (ours and any made with virsh); this keeps the last state per VM so each event carries the
// state it left. After a reconnection, a fresh listing fills in what happened meanwhile.

import type { HypervisorEvent, VmState } from "../types.ts";
import { emit, type LibvirtContext } from "./context.ts";
import type { RawDomain } from "./ops.ts";
import type { RawDomainEvent } from "./protocol.ts";
import { lifecycleMeaning, stateReasonText, vmStateOf } from "./state-map.ts";

export function handleRawEvent(ctx: LibvirtContext, raw: RawDomainEvent): void {
  if (raw.kind !== "lifecycle") {
    if (raw.kind === "device-removed") for (const hit of ctx.removals.get(`${raw.uuid}/${raw.alias}`) ?? []) hit();
    return;
  }
  const meaning = lifecycleMeaning(raw.event, raw.detail);
  const base = { vmId: raw.uuid, vmName: raw.name };
  switch (meaning.kind) {
    case "created": {
      // A VM migrated in with its definition runs before the definition arrives.
      const state = ctx.known.get(raw.uuid) ?? "stopped";
      ctx.known.set(raw.uuid, state);
      emit(ctx, { type: "vm_created", ...base, state, message: `vm ${raw.name} (${raw.uuid}) defined` });
      break;
    }
    case "deleted":
      ctx.parsed.forget(raw.uuid);
      // Already reported gone (a migration away: migration.ts or forgetIfGone).
      if (!ctx.known.has(raw.uuid)) break;
      ctx.known.delete(raw.uuid);
      ctx.startedAt.delete(raw.uuid);
      emit(ctx, { type: "vm_deleted", ...base, message: `vm ${raw.name} (${raw.uuid}) deleted` });
      break;
    case "state": {
      const previous = ctx.known.get(raw.uuid);
      // The migration that moved it away already reported it gone (migration.ts).
      if (meaning.migration === "out" && previous === undefined) break;
      // QEMU domains report e.g. RESUMED then STARTED on boot: only real changes are events.
      if (previous === meaning.state) break;
      ctx.known.set(raw.uuid, meaning.state);
      if (meaning.state === "running" && previous !== "running" && previous !== "paused" && !ctx.startedAt.has(raw.uuid))
        ctx.startedAt.set(raw.uuid, new Date());
      if (meaning.state === "stopped") ctx.startedAt.delete(raw.uuid);
      const event: HypervisorEvent = { type: "vm_state_changed", ...base, state: meaning.state, message: `vm ${raw.name} ${meaning.reason}` };
      if (previous !== undefined) event.previousState = previous;
      if (meaning.migration === "in") event.details = { operation: "migrate_in" };
      emit(ctx, event);
      // An incoming migration that failed leaves no VM, with no event of its own (libvirt drops
      // the transient domain silently). A VM that left is reported gone by migration.ts, after
      // its migration_completed.
      if (previous === "migrating" && meaning.state === "stopped" && meaning.migration !== "out") forgetIfGone(ctx, raw.uuid, raw.name);
      break;
    }
    case "ignored":
      break;
  }
}

function forgetIfGone(ctx: LibvirtContext, uuid: string, name: string): void {
  ctx.pool.call("exists", uuid).then(
    (exists) => {
      if (exists || !ctx.known.has(uuid)) return;
      ctx.known.delete(uuid);
      ctx.startedAt.delete(uuid);
      emit(ctx, { type: "vm_deleted", vmId: uuid, vmName: name, message: `vm ${name} (${uuid}) is gone: its migration to this node did not complete` });
    },
    (err: unknown) => ctx.log.warn(`could not tell whether vm ${uuid} is still defined`, err),
  );
}

/** Emits what changed while events could not arrive, and makes `known` match libvirt again. */
export function reconcile(ctx: LibvirtContext, domains: RawDomain[], announce: boolean): void {
  const seen = new Set<string>();
  for (const d of domains) {
    seen.add(d.uuid);
    const state: VmState = vmStateOf(d.state, d.reason);
    const previous = ctx.known.get(d.uuid);
    ctx.known.set(d.uuid, state);
    if (!announce) continue;
    if (previous === undefined) {
      emit(ctx, { type: "vm_created", vmId: d.uuid, vmName: d.name, state, message: `vm ${d.name} (${d.uuid}) appeared while libvirt was unreachable` });
    } else if (previous !== state) {
      emit(ctx, {
        type: "vm_state_changed",
        vmId: d.uuid,
        vmName: d.name,
        state,
        previousState: previous,
        message: `vm ${d.name} ${stateReasonText(d.state, d.reason)} (while libvirt was unreachable)`,
      });
    }
  }
  for (const uuid of [...ctx.known.keys()]) {
    if (seen.has(uuid)) continue;
    ctx.known.delete(uuid);
    if (announce) emit(ctx, { type: "vm_deleted", vmId: uuid, message: `vm ${uuid} was deleted while libvirt was unreachable` });
  }
}
