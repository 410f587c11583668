// A migration that runs on its own (as libvirt's job does) and reports progress through a
// queue the caller's iterator drains. A host ending in ".invalid" is unreachable (RFC 2606),
// which lets callers exercise the failure path. Aborting the signal, or dropping the iterator,
// cancels the job and the VM stays here in the state it had.

import { HypervisorError, isHypervisorError } from "../errors.ts";
import type { MigrateOptions, MigrationPhase, MigrationProgress, VmState } from "../types.ts";
import { validateMigrationUri } from "../validation.ts";
import { emitVm, invalidState, type MockContext, type MockVm, removeVm, setState, withVm } from "./context.ts";

const TRANSFER_STEPS = 5;
const DEFINITION_BYTES = 16 * 1024;

function bytesToMove(vm: MockVm, opts: MigrateOptions): number {
  const disks = opts.copyStorage ? vm.spec.disks.reduce((sum, d) => sum + (d.newImage?.sizeBytes ?? 0), 0) : 0;
  return (opts.live ? vm.spec.memoryMib * 1024 * 1024 : DEFINITION_BYTES) + disks;
}

export async function* migrateVm(ctx: MockContext, id: string, opts: MigrateOptions, signal: AbortSignal): AsyncGenerator<MigrationProgress> {
  const target = validateMigrationUri(opts.targetUri, "target_uri");
  const startedAt = ctx.now();
  const { vm, previous } = await withVm(ctx, id, (vm) => {
    if (vm.state === "migrating") throw invalidState(vm, "is already migrating");
    if (vm.state === "shutting_down") throw invalidState(vm, "is shutting down; wait for it to stop or force stop it");
    const live = vm.state === "running" || vm.state === "paused";
    if (opts.live && !live) {
      throw invalidState(vm, `is ${vm.state}; live migration needs a running vm (use live: false to move a stopped vm)`);
    }
    if (!opts.live && live) {
      throw invalidState(vm, `is ${vm.state}; offline migration moves a stopped vm (stop it first or use live: true)`);
    }
    const previous: VmState = vm.state;
    setState(ctx, vm, "migrating", `migrating to ${target.host}`);
    emitVm(ctx, vm, "migration_started", `migration of vm ${vm.spec.name} to ${target.host} started`, {
      target: opts.targetUri,
      live: String(opts.live),
    });
    return { vm, previous };
  });

  const total = bytesToMove(vm, opts);
  const queue: MigrationProgress[] = [];
  let failure: HypervisorError | undefined;
  let done = false;
  let wake: (() => void) | undefined;
  let lastPercent = 0;
  const push = (phase: MigrationPhase, percent: number, message: string) => {
    lastPercent = percent;
    const processed = Math.round((total * percent) / 100);
    queue.push({
      vmId: id,
      phase,
      percent,
      dataTotalBytes: total,
      dataProcessedBytes: processed,
      dataRemainingBytes: total - processed,
      elapsedMs: ctx.now() - startedAt,
      message,
    });
    wake?.();
  };

  const job = new AbortController();
  vm.abortMigration = () => job.abort();
  const onAbort = () => job.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) job.abort();

  async function run(): Promise<void> {
    try {
      push("starting", 0, `migrating vm ${id} to ${target.host}`);
      await ctx.timers.sleep(ctx.opts.migrationStepMs, job.signal);
      if (target.hostname.endsWith(".invalid")) {
        throw new HypervisorError("unavailable", `cannot reach migration target ${target.host}: the host name does not resolve`);
      }
      for (let step = 1; step <= TRANSFER_STEPS; step++) {
        const percent = Math.round((step * 100) / TRANSFER_STEPS);
        push("transferring", percent, `transferred ${percent}% to ${target.host}`);
        await ctx.timers.sleep(ctx.opts.migrationStepMs, job.signal);
      }
      await ctx.locks.run(id, () => {
        if (job.signal.aborted) throw new HypervisorError("cancelled", "operation cancelled");
        removeVm(ctx, vm);
        emitVm(ctx, vm, "migration_completed", `vm ${vm.spec.name} migrated to ${target.host}`, { target: opts.targetUri });
      });
      push("completed", 100, `vm ${id} now runs on ${target.host}`);
    } catch (err) {
      failure = isHypervisorError(err) ? err : new HypervisorError("internal", String(err), undefined, { cause: err });
      if (failure.kind === "cancelled") failure = new HypervisorError("cancelled", `migration of vm ${id} was cancelled; it stays on this node`);
      const reason = failure.message;
      // Restore without the lock when the mock is closing: nothing else may run then anyway.
      const restore = () => {
        if (!vm.removed && vm.state === "migrating") setState(ctx, vm, previous, `migration failed: ${reason}`);
        emitVm(ctx, vm, "migration_failed", `migration of vm ${vm.spec.name} to ${target.host} failed: ${reason}`, {
          target: opts.targetUri,
          reason: failure?.kind ?? "internal",
        });
      };
      if (ctx.closed) restore();
      else await ctx.locks.run(id, restore);
      push(failure.kind === "cancelled" ? "cancelled" : "failed", lastPercent, reason);
    } finally {
      vm.abortMigration = undefined;
      signal.removeEventListener("abort", onAbort);
      done = true;
      wake?.();
    }
  }

  const running = run();
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (done) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    if (failure) throw failure;
  } finally {
    // The consumer stopped listening: nobody will see the outcome, so do not move the VM.
    if (!done) job.abort();
    await running;
  }
}
