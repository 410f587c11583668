// Mock-only migration: progress reports, unreachable targets, cancellation.

import { afterEach, describe, expect, test } from "bun:test";
import type { HypervisorEvent } from "../../src/hypervisor/types.ts";
import { expectKind } from "./contract.ts";
import { closeMocks, mock, create, collect } from "./mock-helpers.ts";

afterEach(closeMocks);

describe("migration", () => {
  const target = "qemu+tls://node-2.example/system";

  test("reports starting, rising progress, completed; then the vm is gone", async () => {
    const hv = mock();
    const events: HypervisorEvent[] = [];
    hv.onEvent((e) => events.push(e));
    const id = await create(hv);
    await hv.startVm(id);
    const seen: string[] = [];
    const { frames, error } = await collect(hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, new AbortController().signal), async () => {
      seen.push((await hv.getVm(id).catch(() => ({ state: "gone" }))).state);
    });
    expect(error).toBeUndefined();
    expect(frames[0]).toMatchObject({ phase: "starting", percent: 0, dataTotalBytes: 1024 * 1024 * 1024 });
    const transfers = frames.filter((f) => f.phase === "transferring").map((f) => f.percent);
    expect(transfers.length).toBeGreaterThanOrEqual(3);
    expect(transfers).toEqual([...transfers].sort((a, b) => a - b));
    expect(frames.at(-1)).toMatchObject({ phase: "completed", percent: 100, dataRemainingBytes: 0 });
    expect(seen).toContain("migrating");
    await expectKind(hv.getVm(id), "not_found");
    expect(events.filter((e) => e.vmId === id).map((e) => e.type)).toContain("migration_completed");
  });

  test("a migrating vm refuses other lifecycle operations; a force stop ends the migration", async () => {
    const hv = mock({ migrationStepMs: 20 });
    const id = await create(hv);
    await hv.startVm(id);
    const it = hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, new AbortController().signal);
    const first = await it[Symbol.asyncIterator]().next();
    expect(first.value).toMatchObject({ phase: "starting" });
    for (const op of [hv.startVm(id), hv.pauseVm(id), hv.rebootVm(id), hv.deleteVm(id, { deleteDisks: false, force: true })]) {
      const err = await expectKind(op, "invalid_state");
      expect(err.message).toContain("migrating");
    }
    // Pulling the plug: the source process is gone, so is the migration; the vm stays here, stopped.
    expect((await hv.forceStopVm(id)).state).toBe("stopped");
    const { frames, error } = await collect(it);
    expect(frames.at(-1)?.phase).toBe("cancelled");
    expect(error).toMatchObject({ kind: "cancelled" });
    expect(await hv.getVm(id)).toMatchObject({ state: "stopped" });
    await expectKind(hv.getConsole(id), "invalid_state");
  });

  test("an unreachable target fails with unavailable and the vm stays running", async () => {
    const hv = mock();
    const id = await create(hv);
    await hv.startVm(id);
    const events: HypervisorEvent[] = [];
    hv.onEvent((e) => e.type.startsWith("migration_") && events.push(e));
    const { frames, error } = await collect(
      hv.migrateVm(id, { targetUri: "qemu+ssh://node-9.invalid/system", live: true, copyStorage: false }, new AbortController().signal),
    );
    expect(frames.map((f) => f.phase)).toEqual(["starting", "failed"]);
    expect(error).toMatchObject({ kind: "unavailable" });
    expect((error as Error).message).toContain("node-9.invalid");
    expect((await hv.getVm(id)).state).toBe("running");
    expect(events.map((e) => e.type)).toEqual(["migration_started", "migration_failed"]);
  });

  test("aborting the signal cancels and the vm stays", async () => {
    const hv = mock();
    const id = await create(hv);
    await hv.startVm(id);
    await hv.pauseVm(id);
    const abort = new AbortController();
    const { frames, error } = await collect(hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, abort.signal), (p) => {
      if (p.phase === "transferring") abort.abort();
    });
    expect(frames.at(-1)?.phase).toBe("cancelled");
    expect(error).toMatchObject({ kind: "cancelled" });
    expect((await hv.getVm(id)).state).toBe("paused");
  });

  test("a consumer that stops listening cancels the migration", async () => {
    const hv = mock();
    const id = await create(hv);
    await hv.startVm(id);
    for await (const p of hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, new AbortController().signal)) {
      if (p.phase === "transferring") break;
    }
    expect((await hv.getVm(id)).state).toBe("running");
  });

  test("offline migration moves a stopped vm; a running one needs live", async () => {
    const hv = mock();
    const id = await create(hv);
    const { frames } = await collect(hv.migrateVm(id, { targetUri: target, live: false, copyStorage: true }, new AbortController().signal));
    expect(frames.at(-1)?.phase).toBe("completed");
    expect(frames[0]?.dataTotalBytes).toBe(16 * 1024 + 10 * 2 ** 30);
    const other = await create(hv);
    await hv.startVm(other);
    const { error } = await collect(hv.migrateVm(other, { targetUri: target, live: false, copyStorage: false }, new AbortController().signal));
    expect(error).toMatchObject({ kind: "invalid_state" });
    const { error: badUri } = await collect(hv.migrateVm(other, { targetUri: "http://x", live: true, copyStorage: false }, new AbortController().signal));
    expect(badUri).toMatchObject({ kind: "invalid_argument", field: "target_uri" });
  });
});
