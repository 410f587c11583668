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

/**
 * `migration`: "in" when a VM that came in by migration starts running here; "out" when it
 * stopped here because it now runs elsewhere.
 */
export type LifecycleMeaning =
  | { kind: "created" }
  | { kind: "deleted" }
  | { kind: "state"; state: VmState; reason: string; migration?: "in" | "out" }
  | { kind: "ignored" };

const SUSPENDED_MIGRATED = 1;
/** virDomainEventDefinedDetailType ADDED, virDomainEventUndefinedDetailType REMOVED. */
const DEFINED_ADDED = 0;
const UNDEFINED_REMOVED = 0;
/** virDomainEventShutdownDetailType: the guest finished (0), at its own request (1), at the host's (2: a signal, i.e. a force stop). */
const SHUTDOWN_HOST = 2;
/** VIR_DOMAIN_EVENT_STARTED_MIGRATED: the destination's QEMU waits for the incoming memory. */
const STARTED_MIGRATED = 1;
/** VIR_DOMAIN_EVENT_RESUMED_MIGRATED: the destination's guest runs, the migration is done. */
const RESUMED_MIGRATED = 1;
/** VIR_DOMAIN_EVENT_STOPPED_MIGRATED: the source's guest stopped, it runs on the destination. */
const STOPPED_MIGRATED = 3;
const STOPPED_DETAILS = ["shut down", "force stopped", "crashed", "migrated away", "saved", "failed", "reverted to a snapshot"];
const STARTED_DETAILS = ["booted", "migrated in", "restored", "reverted to a snapshot", "woken up", "recreated"];

/** What a VIR_DOMAIN_EVENT_ID_LIFECYCLE (event, detail) pair means for the VM. */
export function lifecycleMeaning(event: number, detail: number): LifecycleMeaning {
  switch (event) {
    case LIFECYCLE.DEFINED:
      // 1 updated, 2 renamed, 3 from snapshot: the VM already existed.
      return detail === DEFINED_ADDED ? { kind: "created" } : { kind: "ignored" };
    case LIFECYCLE.UNDEFINED:
      // 1 renamed: the VM lives on under its new name.
      return detail === UNDEFINED_REMOVED ? { kind: "deleted" } : { kind: "ignored" };
    case LIFECYCLE.STARTED:
      // The guest runs here only once its memory has arrived (RESUMED_MIGRATED).
      if (detail === STARTED_MIGRATED) return { kind: "state", state: "migrating", reason: "is being migrated in" };
      return { kind: "state", state: "running", reason: STARTED_DETAILS[detail] ?? "started" };
    case LIFECYCLE.SUSPENDED:
      return detail === SUSPENDED_MIGRATED
        ? { kind: "state", state: "migrating", reason: "paused for migration" }
        : { kind: "state", state: "paused", reason: "paused" };
    case LIFECYCLE.RESUMED:
      if (detail === RESUMED_MIGRATED) return { kind: "state", state: "running", reason: "migrated in", migration: "in" };
      return { kind: "state", state: "running", reason: "resumed" };
    case LIFECYCLE.STOPPED:
      if (detail === STOPPED_MIGRATED) return { kind: "state", state: "stopped", reason: "migrated away", migration: "out" };
      return { kind: "state", state: "stopped", reason: STOPPED_DETAILS[detail] ?? "stopped" };
    case LIFECYCLE.SHUTDOWN:
      // A force stop (virDomainDestroy) kills QEMU with a signal: QEMU reports a host-requested
      // shutdown just before STOPPED. It is no "shutting down" the VM went through (the mock's
      // force stop goes straight to stopped, as it must on every backend).
      if (detail === SHUTDOWN_HOST) return { kind: "ignored" };
      // 0 finished, 1 at the guest's request: the guest is done; STOPPED follows.
      return { kind: "state", state: "shutting_down", reason: "guest is shutting down" };
    case LIFECYCLE.PMSUSPENDED:
      return { kind: "state", state: "suspended", reason: "suspended by the guest" };
    case LIFECYCLE.CRASHED:
      return { kind: "state", state: "crashed", reason: "guest crashed" };
    default:
      return { kind: "ignored" };
  }
}
