// Peer-to-peer live migration. virDomainMigrateToURI3 blocks its call Worker until the end, so
// progress is read from the job statistics on another Worker, and cancelling the signal calls
// virDomainAbortJob. Phases and failures follow the mock: a final "failed"/"cancelled" progress,
// then the error.

import { HypervisorError } from "../errors.ts";
import type { MigrateOptions, MigrationPhase, MigrationProgress } from "../types.ts";
import { validateMigrationUri, validateVmId } from "../validation.ts";
import { emit, fetchStatus, invalidState, type LibvirtContext, vmCall } from "./context.ts";
import { parseDomainXmlFresh } from "./domain-xml/index.ts";
import { libvirtCodeOf, VIR_ERR } from "./ffi/error-codes.ts";
import { JOB_TYPE, MIGRATE } from "./ffi/flags.ts";
import type { ParamValues } from "./ffi/typed-params.ts";
import { disksToCopy, unsafeMigrationError } from "./migration-storage.ts";

/** copyDisks: some local disk is to be copied (migration-storage.ts decides). */
export function migrationFlags(opts: MigrateOptions, running: boolean, copyDisks = opts.copyStorage): number {
  let flags = MIGRATE.PEER2PEER | MIGRATE.PERSIST_DEST | MIGRATE.UNDEFINE_SOURCE | MIGRATE.ABORT_ON_ERROR;
  if (running && opts.live) flags |= MIGRATE.LIVE;
  if (!running) flags |= MIGRATE.OFFLINE;
  if (copyDisks) flags |= MIGRATE.NON_SHARED_DISK;
  return flags;
}

/** migrateDisks: the guest devices to copy (only these; shared disks stay where they are). */
export function migrationParams(opts: MigrateOptions, migrateDisks?: readonly string[]): ParamValues {
  return {
    ...(opts.bandwidthMibPerS ? { bandwidth: BigInt(opts.bandwidthMibPerS) } : {}),
    ...(migrateDisks?.length ? { migrate_disks: migrateDisks } : {}),
  };
}

/**
 * How far a migration job is, from libvirt's job figures: (total - remaining) / total, at most
 * 99 until it completes. processed / total would mislead: it passes 100 % when the guest keeps
 * dirtying memory (pages are sent again), stays near 0 when most pages are zero (sent as a
 * flag, not counted), and drops when the memory phase follows the disk phase.
 */
export function jobPercent(total: number, remaining: number): number {
  if (total <= 0) return 0;
  const done = Math.max(0, Math.min(total, total - remaining));
  return Math.min(99, Math.floor((done / total) * 100));
}

export async function* migrateVm(ctx: LibvirtContext, id: string, opts: MigrateOptions, signal: AbortSignal): AsyncGenerator<MigrationProgress> {
  validateVmId(id);
  const target = validateMigrationUri(opts.targetUri);
  const status = await fetchStatus(ctx, id);
  if (opts.live && status.state !== "running") throw invalidState(id, status.state, "live migration needs a running vm (use live: false to move a stopped vm)");
  if (!opts.live && status.state !== "stopped" && status.state !== "running") throw invalidState(id, status.state, "stop or resume it first");
  const running = status.state === "running";
  // libvirt migrates the running definition: a disk unplugged from the config but not yet
  // released by the guest is still there and must be copied too (or libvirt calls it unsafe).
  const disks = running ? parseDomainXmlFresh((await vmCall(ctx, id, "domain", id, 0)).xml).spec.disks : status.spec.disks;
  const copy = disksToCopy(id, disks, opts.copyStorage, running);
  const started = Date.now();
  const progress = (phase: MigrationPhase, message: string, stats: Record<string, unknown> = {}): MigrationProgress => {
    const n = (k: string) => (typeof stats[k] === "number" ? (stats[k] as number) : 0);
    const total = n("data_total");
    const processed = n("data_processed");
    return {
      vmId: id,
      phase,
      percent: phase === "completed" ? 100 : jobPercent(total, n("data_remaining")),
      dataTotalBytes: total,
      dataProcessedBytes: processed,
      dataRemainingBytes: n("data_remaining"),
      elapsedMs: Date.now() - started,
      message,
    };
  };

  emit(ctx, {
    type: "migration_started",
    vmId: id,
    vmName: status.name,
    message: `migration of vm ${id} to ${target.host} started`,
    details: { target: opts.targetUri },
  });
  yield progress("starting", `migrating vm ${id} to ${opts.targetUri}`);

  let outcome: { ok: true } | { ok: false; err: unknown } | undefined;
  const job = ctx.pool.call("migrate", id, opts.targetUri, migrationFlags(opts, running, copy !== undefined), migrationParams(opts, copy)).then(
    () => (outcome = { ok: true }),
    (err: unknown) => (outcome = { ok: false, err }),
  );
  let aborting = false;
  const abort = () => {
    if (aborting || outcome) return;
    aborting = true;
    ctx.pool.call("abortJob", id).catch((err) => ctx.log.warn(`could not abort the migration of vm ${id}`, err));
  };
  signal.addEventListener("abort", abort, { once: true });
  if (signal.aborted) abort();
  let downtimeSet = opts.maxDowntimeMs === undefined;
  try {
    while (!outcome) {
      await Promise.race([job, Bun.sleep(ctx.settings.migrationPollMs)]);
      if (outcome) break;
      const stats = await ctx.pool.call("jobStats", id).catch(() => undefined);
      if (stats && (stats.type === JOB_TYPE.BOUNDED || stats.type === JOB_TYPE.UNBOUNDED)) {
        if (!downtimeSet && opts.maxDowntimeMs !== undefined) {
          downtimeSet = true;
          await ctx.pool.call("setMaxDowntime", id, opts.maxDowntimeMs).catch((err) => ctx.log.warn("max downtime not applied", err));
        }
        yield progress("transferring", `transferring vm ${id}`, stats.params);
      }
    }
  } finally {
    signal.removeEventListener("abort", abort);
    // A consumer that stops listening cancels the migration rather than leaving it unobserved.
    if (!outcome) abort();
  }
  await job;
  if (outcome.ok) {
    ctx.startedAt.delete(id);
    emit(ctx, {
      type: "migration_completed",
      vmId: id,
      vmName: status.name,
      message: `vm ${id} migrated to ${target.host}`,
      details: { target: opts.targetUri },
    });
    // UNDEFINE_SOURCE: libvirt dropped the VM here before the call returned, without an event
    // (events.ts skips the "stopped: migrated away" and any "undefined" of a VM reported gone).
    if (!(await ctx.pool.call("exists", id).catch(() => true)) && ctx.known.has(id)) {
      ctx.known.delete(id);
      emit(ctx, { type: "vm_deleted", vmId: id, vmName: status.name, message: `vm ${status.name} (${id}) left this node for ${target.host}` });
    }
    yield progress("completed", `vm ${id} now runs on ${target.host}`);
    return;
  }
  let failure = outcome.err instanceof HypervisorError ? outcome.err : new HypervisorError("internal", String(outcome.err));
  if (aborting || failure.kind === "cancelled") failure = new HypervisorError("cancelled", `migration of vm ${id} was cancelled; it stays on this node`);
  else if (libvirtCodeOf(outcome.err) === VIR_ERR.MIGRATE_UNSAFE) failure = unsafeMigrationError(id, disks, failure.message);
  emit(ctx, {
    type: "migration_failed",
    vmId: id,
    vmName: status.name,
    message: `migration of vm ${id} to ${target.host} failed: ${failure.message}`,
    details: { target: opts.targetUri, reason: failure.kind },
  });
  yield progress(failure.kind === "cancelled" ? "cancelled" : "failed", failure.message);
  throw failure;
}
