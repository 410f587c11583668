// Which lane of call Workers an op runs in, how long its caller waits for it, and whether a
// client that goes away cancels it: the one rule for every libvirt call (call-pool.ts applies
// it). Three lanes, so a slow call can never starve a quick one:
// - "short": reads and quick actions (GetVMStatus, start, pause, listing, storage reads);
// - "long": calls that can hold their Worker for seconds to hours (a migration holds one for
//   its whole length, a volume copy, an NFS mount, a detach that waits for the guest);
// - "control": job control of a running long call (progress, abort, downtime), on a Worker of
//   its own so a cancel and the progress figures always get through, however busy the rest is.

import type { OpName } from "./ops.ts";

export type Lane = "short" | "long" | "control";
export const LANES: readonly Lane[] = ["short", "long", "control"];

/**
 * The deadline, in units of the base call deadline (hypervisor.libvirt_call_deadline_ms):
 * 1 for a call, 2 for storage (60 s at the default base, as before), 120 for long work
 * (an hour), "none" for a migration: a healthy one may take hours, and one that hangs is ended
 * by its own job control (a cancel calls abortJob), not by dropping its result.
 */
type Deadline = number | "none";

interface Rule {
  lane: Lane;
  deadline: Deadline;
  /**
   * false: the caller's cancellation does not reach it. Job control is how a cancel is carried
   * out: an abortJob sent because the client left must still run.
   */
  cancellable: boolean;
  /** Goes to the front of its lane's queue: a cancel, which a client is waiting for. */
  urgent?: boolean;
}

const short = (deadline: Deadline = 1): Rule => ({ lane: "short", deadline, cancellable: true });
const long = (deadline: Deadline = 120): Rule => ({ lane: "long", deadline, cancellable: true });
const control: Rule = { lane: "control", deadline: 1, cancellable: false };

const STORAGE = 2;

const RULES: Record<OpName, Rule> = {
  ping: short(),
  hostFacts: short(),
  domain: short(),
  domains: short(),
  uuidByName: short(),
  exists: short(),
  define: short(),
  state: short(),
  start: short(),
  // Sends the ACPI request and returns; the wait for the guest is the daemon's own polling.
  shutdown: short(),
  destroy: short(),
  reboot: short(),
  suspend: short(),
  resume: short(),
  wake: short(),
  undefine: short(),
  attach: short(),
  // libvirt's QEMU driver waits (~5 s) for the guest to release the device inside the call.
  detach: long(1),
  // Memory state and a frozen guest (quiesce) make snapshots slow on a big VM.
  snapshotCreate: long(),
  snapshots: short(),
  snapshotRevert: long(),
  snapshotDelete: long(),
  // Waits for qemu-ga inside the guest (up to the command's own timeout): off the short lane.
  qemuAgentCommand: long(1),
  pools: short(STORAGE),
  pool: short(STORAGE),
  ensurePool: short(STORAGE),
  initDirPool: short(STORAGE),
  // Mounts NFS, logs in to iSCSI, connects to Ceph: a server that is slow holds the Worker.
  initPools: long(STORAGE),
  destroyPools: long(STORAGE),
  volumes: short(STORAGE),
  volume: short(STORAGE),
  // With a source volume it copies the whole image.
  createVolumeIn: long(),
  deleteVolumeNamed: short(STORAGE),
  resizeVolumeNamed: short(STORAGE),
  createVolume: short(STORAGE),
  deleteVolume: short(STORAGE),
  resizeVolume: short(STORAGE),
  blockResize: short(STORAGE),
  changeMedia: short(),
  // A client that leaves gets its answer at once, like any call; migration.ts sends abortJob
  // (control lane) at the same moment. That matters: libvirt takes the abort while it is still
  // connecting to the destination, yet virDomainMigrateToURI3 only returns once that connect
  // ends (against a destination that never answers, when the TCP connection drops). The
  // aborted job never starts the transfer, so the VM stays here; if the abort came too late
  // (the switch-over had begun) the move shows in the events (the source domain is undefined).
  migrate: { lane: "long", deadline: "none", cancellable: true },
  jobStats: control,
  abortJob: { ...control, urgent: true },
  setMaxDowntime: control,
  allStats: short(),
  vmFigures: short(),
};

/** Default base deadline of one libvirt call, waiting in the queue included. */
export const DEFAULT_CALL_DEADLINE_MS = 30_000;

export interface CallRule {
  lane: Lane;
  /** Milliseconds from the moment the call is made; Infinity: none. */
  deadlineMs: number;
  cancellable: boolean;
  urgent: boolean;
}

/** The rule for op with the given base deadline (an op this table does not know is a short call). */
export function ruleOf(op: string, baseDeadlineMs: number = DEFAULT_CALL_DEADLINE_MS): CallRule {
  const r = (RULES as Record<string, Rule | undefined>)[op] ?? short();
  return {
    lane: r.lane,
    deadlineMs: r.deadline === "none" ? Number.POSITIVE_INFINITY : r.deadline * baseDeadlineMs,
    cancellable: r.cancellable,
    urgent: r.urgent === true,
  };
}
