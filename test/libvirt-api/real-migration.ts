// The real API tier's migration checks: a target nobody listens on, and a target that takes the
// connection and never answers (a migration that stays in progress for a while, then fails),
// during which HealthCheck is polled every 10 ms.

import { Code } from "@connectrpc/connect";
import { expect } from "bun:test";
import { MigrationPhase } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { domstate } from "../hypervisor/libvirt/real/helpers.ts";
import { connectErrorOf, healthFigure, pollHealth, type LibvirtTestDaemon } from "./helpers.ts";
import type { silentPeer as SilentPeer } from "./real-helpers.ts";

const HOLD_MS = 3000;

async function migrate(t: LibvirtTestDaemon, id: string, targetUri: string) {
  const phases: string[] = [];
  const started = performance.now();
  const err = await connectErrorOf(
    (async () => {
      for await (const p of t.grpc.migrateVM({ vmId: id, targetNodeUri: targetUri, live: true, storage: true })) phases.push(MigrationPhase[p.phase]);
    })(),
  );
  return { err, phases, ms: performance.now() - started };
}

export async function runMigrationChecks(t: LibvirtTestDaemon, id: string, silentPeer: typeof SilentPeer): Promise<Record<string, string | number>[]> {
  // libvirt refuses to migrate a domain with internal snapshots before it even connects; local
  // disks need copyStorage (else "unsafe"). Rule both out so the target is what fails.
  for (const s of (await t.grpc.listSnapshots({ vmId: id })).snapshots) await t.grpc.deleteSnapshot({ vmId: id, snapshotId: s.snapshotId });

  const unreachable = "qemu+tcp://127.0.0.1:1/system";
  const a = await migrate(t, id, unreachable);
  console.info(`MigrateVM to ${unreachable}: ${Code[a.err.code]}: ${a.err.rawMessage} (phases ${a.phases.join(", ")})`);
  // The target cannot be reached: UNAVAILABLE, naming the target; the VM stays here.
  expect(a.err.code).toBe(Code.Unavailable);
  expect(a.err.rawMessage).toContain("127.0.0.1:1");
  expect(a.phases[0]).toBe("PREPARING");
  expect(a.phases.at(-1)).toBe("FAILED");
  expect(domstate(id)).toBe("running");

  const peer = await silentPeer(HOLD_MS);
  try {
    const poll = pollHealth(t.grpc, 10);
    const b = await migrate(t, id, `qemu+tcp://127.0.0.1:${peer.port}/system`);
    const h = await poll.stop();
    console.info(`MigrateVM to a silent peer: ${Code[b.err.code]} after ${b.ms.toFixed(0)} ms: ${b.err.rawMessage} (phases ${b.phases.join(", ")})`);
    expect(b.phases.at(-1)).toBe("FAILED");
    // Latencies are printed, not judged: on a busy machine they measure the machine (this
    // process's own 5 ms timer is as late); their budget lives in bench/.
    expect(h.unhealthy).toBe(0);
    expect(domstate(id)).toBe("running");
    // The peer holds the connection HOLD_MS: the migration was in progress at least that long.
    expect(b.ms).toBeGreaterThanOrEqual(HOLD_MS - 100);
    return [{ measure: `HealthCheck during a ${(b.ms / 1000).toFixed(1)} s MigrateVM (${h.count} polls)`, value: healthFigure(h) }];
  } finally {
    await peer.close();
  }
}
