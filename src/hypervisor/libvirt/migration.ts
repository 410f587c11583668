// Peer-to-peer live migration. virDomainMigrateToURI3 blocks its call Worker until the end, so
// progress is read from the job statistics on another Worker, and cancelling the signal calls
// virDomainAbortJob. Phases and failures follow the mock: a final "failed"/"cancelled" progress,
// then the error.

import { HypervisorError } from "../errors.ts";
import type { MigrateOptions, MigrationPhase, MigrationProgress } from "../types.ts";
import { validateMigrationUri, validateVmId } from "../validation.ts";
import { emit, fetchStatus, invalidState, type LibvirtContext } from "./context.ts";
import { JOB_TYPE, MIGRATE } from "./ffi/flags.ts";

export function migrationFlags(opts: MigrateOptions, running: boolean): number {
  let flags = MIGRATE.PEER2PEER | MIGRATE.PERSIST_DEST | MIGRATE.UNDEFINE_SOURCE | MIGRATE.ABORT_ON_ERROR;
  if (running && opts.live) flags |= MIGRATE.LIVE;
  if (!running) flags |= MIGRATE.OFFLINE;
  if (opts.copyStorage) flags |= MIGRATE.NON_SHARED_DISK;
  return flags;
}

export function migrationParams(opts: MigrateOptions): Record<string, bigint> {
  return opts.bandwidthMibPerS ? { bandwidth: BigInt(opts.bandwidthMibPerS) } : {};
}

export async function* migrateVm(ctx: LibvirtContext, id: string, opts: MigrateOptions, signal: AbortSignal): AsyncGenerator<MigrationProgress> {
  validateVmId(id);
  const target = validateMigrationUri(opts.targetUri);
  const status = await fetchStatus(ctx, id);
  if (opts.live && status.state !== "running") throw invalidState(id, status.state, "live migration needs a running vm (use live: false to move a stopped vm)");
  if (!opts.live && status.state !== "stopped" && status.state !== "running") throw invalidState(id, status.state, "stop or resume it first");
  const started = Date.now();
  const progress = (phase: MigrationPhase, message: string, stats: Record<string, unknown> = {}): MigrationProgress => {
    const n = (k: string) => (typeof stats[k] === "number" ? (stats[k] as number) : 0);
    const total = n("data_total");
    const processed = n("data_processed");
    return {
      vmId: id,
      phase,
      percent: phase === "completed" ? 100 : total > 0 ? Math.min(99, Math.floor((processed / total) * 100)) : 0,
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
  const job = ctx.pool.call("migrate", id, opts.targetUri, migrationFlags(opts, status.state === "running"), migrationParams(opts)).then(
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
    yield progress("completed", `vm ${id} now runs on ${target.host}`);
    return;
  }
  let failure = outcome.err instanceof HypervisorError ? outcome.err : new HypervisorError("internal", String(outcome.err));
  if (aborting || failure.kind === "cancelled") failure = new HypervisorError("cancelled", `migration of vm ${id} was cancelled; it stays on this node`);
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
