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
    case "created":
      ctx.known.set(raw.uuid, "stopped");
      emit(ctx, { type: "vm_created", ...base, state: "stopped", message: `vm ${raw.name} (${raw.uuid}) defined` });
      break;
    case "deleted":
      ctx.known.delete(raw.uuid);
      ctx.startedAt.delete(raw.uuid);
      emit(ctx, { type: "vm_deleted", ...base, message: `vm ${raw.name} (${raw.uuid}) deleted` });
      break;
    case "state": {
      const previous = ctx.known.get(raw.uuid);
      // QEMU domains report e.g. RESUMED then STARTED on boot: only real changes are events.
      if (previous === meaning.state) break;
      ctx.known.set(raw.uuid, meaning.state);
      if (meaning.state === "running" && previous !== "running" && previous !== "paused" && !ctx.startedAt.has(raw.uuid))
        ctx.startedAt.set(raw.uuid, new Date());
      if (meaning.state === "stopped") ctx.startedAt.delete(raw.uuid);
      const event: HypervisorEvent = { type: "vm_state_changed", ...base, state: meaning.state, message: `vm ${raw.name} ${meaning.reason}` };
      if (previous !== undefined) event.previousState = previous;
      emit(ctx, event);
      break;
    }
    case "ignored":
      break;
  }
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
