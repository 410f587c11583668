// The one table of power transitions every backend follows: for each operation and current state,
// whether the backend acts, the VM is already where the caller wants it (the API answers that as
// success, see server/services/vms.ts), or the request is refused with a hint a person can act on.
// Both lifecycles (libvirt/lifecycle.ts, mock/lifecycle.ts) read it; neither keeps its own rules.
//
// States are VmState as libvirt reports them (libvirt/state-map.ts): "crashed" is a guest that
// crashed with on_crash=preserve (the QEMU process is still there; a crash without preserve is
// simply "stopped"), "suspended" is a guest that put itself to sleep (ACPI S3, PMSUSPENDED),
// "migrating" is a VM paused by an outgoing migration.

import { HypervisorError } from "./errors.ts";
import type { VmState } from "./types.ts";

export type PowerOp = "start" | "stop" | "force_stop" | "reboot" | "pause" | "resume";

export type Verdict =
  /** Do it. */
  | { kind: "act" }
  /** The VM already is where the operation leads: nothing to do. */
  | { kind: "already"; hint: string }
  /** Not from this state; the hint says what to do instead. */
  | { kind: "refuse"; hint: string };

const act: Verdict = { kind: "act" };
const already = (hint: string): Verdict => ({ kind: "already", hint });
const refuse = (hint: string): Verdict => ({ kind: "refuse", hint });

const WAIT_MIGRATION = refuse("wait for the migration to finish or cancel it, or force stop the vm");
const WAIT_SHUTDOWN = refuse("wait for the guest to shut down, or force stop it");

export const TRANSITIONS: Readonly<Record<PowerOp, Readonly<Record<VmState, Verdict>>>> = {
  start: {
    stopped: act,
    running: already("it is already running"),
    // A paused VM is one the host froze: ResumeVM thaws it. Starting it would mean a second boot.
    paused: refuse("it is paused: resume it (ResumeVM) instead of starting it"),
    shutting_down: WAIT_SHUTDOWN,
    // What an operator means by starting a crashed guest is "boot it again": libvirt keeps the
    // crashed process (on_crash=preserve) and refuses virDomainCreate on it, so the libvirt
    // backend destroys it first.
    crashed: act,
    // Like the power button of a sleeping machine, start wakes a guest that suspended itself
    // (virDomainPMWakeup); virDomainCreate would refuse it as already active.
    suspended: act,
    migrating: WAIT_MIGRATION,
  },
  stop: {
    running: act,
    // A second request joins the first: it waits for the same shutdown.
    shutting_down: act,
    stopped: already("it is already stopped"),
    // ACPI needs a guest that runs: a frozen, sleeping or crashed guest never answers it.
    paused: refuse("a paused guest cannot handle the ACPI shutdown request: resume it first, or force stop it"),
    suspended: refuse("a suspended guest cannot handle the ACPI shutdown request: start it to wake it first, or force stop it"),
    crashed: refuse("a crashed guest cannot shut down: force stop it"),
    migrating: WAIT_MIGRATION,
  },
  // Force stop pulls the plug (virDomainDestroy): it must work whenever a process exists, which
  // is every state but stopped. During a migration it kills the source QEMU, so the migration
  // fails and nothing is left running anywhere: what a force stop promises.
  force_stop: {
    running: act,
    paused: act,
    shutting_down: act,
    crashed: act,
    suspended: act,
    migrating: act,
    stopped: already("it is already stopped"),
  },
  reboot: {
    running: act,
    stopped: refuse("it is not running: start it"),
    paused: refuse("it is paused: resume it first"),
    shutting_down: WAIT_SHUTDOWN,
    crashed: refuse("it has crashed: start it to boot it again"),
    suspended: refuse("it is suspended by the guest: start it to wake it first"),
    migrating: WAIT_MIGRATION,
  },
  pause: {
    running: act,
    paused: already("it is already paused"),
    stopped: refuse("only a running vm can be paused: start it first"),
    shutting_down: WAIT_SHUTDOWN,
    crashed: refuse("only a running vm can be paused; it has crashed"),
    suspended: refuse("only a running vm can be paused; the guest has suspended itself"),
    migrating: WAIT_MIGRATION,
  },
  resume: {
    paused: act,
    running: already("it is not paused"),
    stopped: refuse("only a paused vm can be resumed: start it"),
    shutting_down: WAIT_SHUTDOWN,
    crashed: refuse("only a paused vm can be resumed; it has crashed: start it to boot it again"),
    // ResumeVM undoes PauseVM only; a guest that suspended itself is woken by StartVM.
    suspended: refuse("the guest suspended itself: start it to wake it"),
    migrating: WAIT_MIGRATION,
  },
};

export function transitionOf(op: PowerOp, state: VmState): Verdict {
  return TRANSITIONS[op][state];
}

/**
 * Throws invalid_state unless op may act on a VM in state. "Already there" throws too (the
 * backend did nothing); the API turns that one into success after re-reading the state.
 */
export function checkTransition(id: string, op: PowerOp, state: VmState): void {
  const verdict = transitionOf(op, state);
  if (verdict.kind === "act") return;
  throw new HypervisorError("invalid_state", `vm ${id} is ${state.replace("_", " ")}; ${verdict.hint}`);
}

/**
 * Whether a VM in state may be deleted: a stopped one always; one with a process (every other
 * state) only with force, which force-stops it first; a migrating one never (a delete would race
 * the migration's own end: force stop it, then delete). Returns whether a force stop comes first.
 */
export function checkDelete(id: string, state: VmState, force: boolean): { forceStopFirst: boolean } {
  if (state === "stopped") return { forceStopFirst: false };
  const words = `vm ${id} is ${state.replace("_", " ")}`;
  if (state === "migrating") throw new HypervisorError("invalid_state", `${words}; wait for the migration to finish or cancel it, or force stop the vm`);
  if (!force) throw new HypervisorError("invalid_state", `${words}; stop it first, or delete it with force (CLI: --force)`);
  return { forceStopFirst: true };
}

/** True when op asks for the state the VM is already in. */
export const isAlreadyThere = (op: PowerOp, state: VmState): boolean => transitionOf(op, state).kind === "already";
