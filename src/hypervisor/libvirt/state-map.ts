// The one place that maps libvirt's domain states, state reasons and lifecycle events to the
// backend-neutral VmState (libvirt-domain.h: virDomainState, virDomain*Reason, virDomainEventType).

import type { VmState } from "../types.ts";

export const LIBVIRT_STATE = { NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7 } as const;

const PAUSED_MIGRATION = 2;

export function vmStateOf(state: number, reason = 0): VmState {
  switch (state) {
    case LIBVIRT_STATE.RUNNING:
    case LIBVIRT_STATE.BLOCKED:
      return "running";
    case LIBVIRT_STATE.PAUSED:
      return reason === PAUSED_MIGRATION ? "migrating" : "paused";
    case LIBVIRT_STATE.SHUTDOWN:
      return "shutting_down";
    case LIBVIRT_STATE.CRASHED:
      return "crashed";
    case LIBVIRT_STATE.PMSUSPENDED:
      return "suspended";
    default:
      // NOSTATE, SHUTOFF and anything newer: no guest is running.
      return "stopped";
  }
}

/** True while a QEMU process exists for the domain. */
export const isActiveState = (state: number): boolean => state !== LIBVIRT_STATE.SHUTOFF && state !== LIBVIRT_STATE.NOSTATE;

const REASONS: Record<number, string[]> = {
  [LIBVIRT_STATE.RUNNING]: [
    "running",
    "booted",
    "migrated in",
    "restored",
    "reverted to a snapshot",
    "resumed",
    "migration cancelled",
    "save cancelled",
    "woken up",
    "crashed and kept running",
    "post-copy migration",
  ],
  [LIBVIRT_STATE.BLOCKED]: ["blocked"],
  [LIBVIRT_STATE.PAUSED]: [
    "paused",
    "paused by the user",
    "paused for migration",
    "paused for save",
    "paused for a core dump",
    "paused on a disk I/O error",
    "paused by the watchdog",
    "reverted to a paused snapshot",
    "paused while shutting down",
    "paused for a snapshot",
    "paused after a failed API call",
    "starting up",
    "paused in post-copy migration",
    "post-copy migration failed",
  ],
  [LIBVIRT_STATE.SHUTDOWN]: ["shutting down", "shutting down at the guest's request"],
  [LIBVIRT_STATE.SHUTOFF]: [
    "stopped",
    "shut down",
    "force stopped",
    "crashed",
    "migrated away",
    "saved",
    "failed to start",
    "reverted to a stopped snapshot",
    "stopped while libvirtd was down",
  ],
  [LIBVIRT_STATE.CRASHED]: ["crashed", "guest panicked"],
  [LIBVIRT_STATE.PMSUSPENDED]: ["suspended by the guest"],
};

export function stateReasonText(state: number, reason: number): string {
  const list = REASONS[state];
  return list?.[reason] ?? list?.[0] ?? `libvirt state ${state} reason ${reason}`;
}

export const LIFECYCLE = { DEFINED: 0, UNDEFINED: 1, STARTED: 2, SUSPENDED: 3, RESUMED: 4, STOPPED: 5, SHUTDOWN: 6, PMSUSPENDED: 7, CRASHED: 8 } as const;

export type LifecycleMeaning = { kind: "created" } | { kind: "deleted" } | { kind: "state"; state: VmState; reason: string } | { kind: "ignored" };

const SUSPENDED_MIGRATED = 1;
const STOPPED_DETAILS = ["shut down", "force stopped", "crashed", "migrated away", "saved", "failed", "reverted to a snapshot"];
const STARTED_DETAILS = ["booted", "migrated in", "restored", "reverted to a snapshot", "woken up", "recreated"];

/** What a VIR_DOMAIN_EVENT_ID_LIFECYCLE (event, detail) pair means for the VM. */
export function lifecycleMeaning(event: number, detail: number): LifecycleMeaning {
  switch (event) {
    case LIFECYCLE.DEFINED:
      // 0 added; 1 updated, 2 renamed, 3 from snapshot: the VM already existed.
      return detail === 0 ? { kind: "created" } : { kind: "ignored" };
    case LIFECYCLE.UNDEFINED:
      return detail === 0 ? { kind: "deleted" } : { kind: "ignored" };
    case LIFECYCLE.STARTED:
      return { kind: "state", state: "running", reason: STARTED_DETAILS[detail] ?? "started" };
    case LIFECYCLE.SUSPENDED:
      return detail === SUSPENDED_MIGRATED
        ? { kind: "state", state: "migrating", reason: "paused for migration" }
        : { kind: "state", state: "paused", reason: "paused" };
    case LIFECYCLE.RESUMED:
      return { kind: "state", state: "running", reason: "resumed" };
    case LIFECYCLE.STOPPED:
      return { kind: "state", state: "stopped", reason: STOPPED_DETAILS[detail] ?? "stopped" };
    case LIFECYCLE.SHUTDOWN:
      // detail 0 "finished": the guest is done; STOPPED follows.
      return { kind: "state", state: "shutting_down", reason: "guest is shutting down" };
    case LIFECYCLE.PMSUSPENDED:
      return { kind: "state", state: "suspended", reason: "suspended by the guest" };
    case LIFECYCLE.CRASHED:
      return { kind: "state", state: "crashed", reason: "guest crashed" };
    default:
      return { kind: "ignored" };
  }
}
