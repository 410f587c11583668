// Real tier (qemu:///system): four slow migrations never starve the other calls. Four running
// QEMU guests (no disks, no OS) migrate live to four silent peers (TCP peers that take libvirt's
// connection and never answer), so each migration stays in progress, holding a long-lane Worker,
// until its peer hangs up. Meanwhile 200 GetVMStatus calls must all complete while all four are
// still in progress, and a MigrateVM cancelled by its client must end (the daemon's
// migration_failed event) long before its peer's hold time, the VM still running here.
// Latencies are printed, not judged (budgets live in bench/).

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EventType, MigrationPhase, type NodeEvent } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { callLanesForTest } from "../../src/hypervisor/libvirt/libvirt-hypervisor.ts";
import { domstate, REAL, realDomainType, URI, virsh, virshQuietly } from "../hypervisor/libvirt/real/helpers.ts";
import { type EventRecorder, recordEvents } from "../support/record-events.ts";
import { median, percentile, startLibvirtDaemon, type LibvirtTestDaemon } from "./helpers.ts";
import { silentPeer } from "./real-helpers.ts";

/** How long each silent peer holds libvirt's connection: the migrations' length. */
const HOLD_MS = 30_000;
const STEP_MS = 120_000;

describe.skipIf(!REAL)(`four slow migrations beside 200 GetVMStatus on ${URI}`, () => {
  const run = crypto.randomUUID().slice(0, 8);
  const names = [0, 1, 2, 3].map((i) => `lq14a-${run}-m${i}`);
  const ids = names.map(() => crypto.randomUUID());
  let t: LibvirtTestDaemon;
  let recorder: EventRecorder;
  const events: NodeEvent[] = [];
  const peers: Awaited<ReturnType<typeof silentPeer>>[] = [];

  beforeAll(async () => {
    t = await startLibvirtDaemon({ uri: URI, poolName: `lq14a-${run}` });
    recorder = recordEvents(t.grpc, events);
    const type = realDomainType();
    for (const [i, name] of names.entries()) {
      const xml = `<domain type='${type}'><name>${name}</name><uuid>${ids[i]}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`;
      const file = `${t.storagePath}/${name}.xml`;
      await Bun.write(file, xml);
      virsh("define", file);
      virsh("start", name);
    }
    for (let i = 0; i < 4; i++) peers.push(await silentPeer(HOLD_MS));
  }, STEP_MS);

  afterAll(async () => {
    // Peers gone: libvirt's connects fail at once and the migration jobs end.
    for (const p of peers) await p.close();
    await recorder?.stop();
    for (const name of names) {
      virshQuietly(["destroy", name], ["undefine", name]);
    }
    if (!t) return;
    await t.stop();
    virshQuietly(["pool-destroy", t.poolName], ["pool-undefine", t.poolName]);
  }, STEP_MS);

  test(
    "all 200 status calls complete while the 4 migrations are in progress; a cancelled one ends before its peer lets go",
    async () => {
      const lanes = () => callLanesForTest(t.daemon.hypervisor);
      // Status latency with no migration, for the printed comparison.
      const idle = await statusLatencies(t, ids);

      const clients = ids.map(() => new AbortController());
      const settled = ids.map(() => false);
      const phases: string[][] = ids.map(() => []);
      const migrations = ids.map((id, i) =>
        (async () => {
          try {
            for await (const p of t.grpc.migrateVM(
              { vmId: id, targetNodeUri: `qemu+tcp://127.0.0.1:${peers[i]?.port}/system`, live: true },
              { signal: clients[i]?.signal },
            )) {
              phases[i]?.push(MigrationPhase[p.phase]);
            }
            return "completed";
          } catch (err) {
            return Code[ConnectError.from(err).code];
          } finally {
            settled[i] = true;
          }
        })(),
      );
      await until("4 migrations hold the 4 long-lane Workers", () => lanes().long.busy === 4);
      for (const name of names) expect(virsh("domjobinfo", name)).toContain("Outgoing migration");

      const busy = await statusLatencies(t, ids);
      // The condition, not a latency: every status call answered while no migration had ended.
      expect(settled).toEqual([false, false, false, false]);
      expect(lanes().long.busy).toBe(4);
      for (const name of names) expect(virsh("domjobinfo", name)).toContain("Outgoing migration");

      // The cancel has landed when the daemon's MigrateVM handler has ended (it sent abortJob
      // on the job-control Worker as it did): StreamEvents and the 3 others stay open.
      const open = t.daemon.stats().activeCalls;
      const cancelled = events.length;
      const t0 = performance.now();
      clients[0]?.abort();
      await until(
        "the cancelled MigrateVM's handler ends",
        () => t.daemon.stats().activeCalls === open - 1,
        60_000,
        () => `lanes ${JSON.stringify(lanes())}`,
      );
      const cancelMs = performance.now() - t0;
      const failed = events.slice(cancelled).find((e) => e.type === EventType.MIGRATION_FAILED && e.vmId === ids[0]);
      console.info(
        `GetVMStatus x200 p50/p99: ${median(idle).toFixed(2)}/${percentile(idle, 99).toFixed(2)} ms idle, ` +
          `${median(busy).toFixed(2)}/${percentile(busy, 99).toFixed(2)} ms beside 4 migrations; ` +
          `MigrateVM cancel landed in ${cancelMs.toFixed(1)} ms (event: ${failed?.message ?? "none yet"}); ` +
          `libvirt's job meanwhile: ${virsh("domjobinfo", names[0] as string).split("\n")[0]}`,
      );
      expect(await migrations[0]).toBe("Canceled");
      // Ended long before the peer let go of libvirt's connection, and the VM stayed here.
      expect(cancelMs).toBeLessThan(HOLD_MS);
      expect(settled.slice(1)).toEqual([false, false, false]);
      expect(domstate(names[0] as string)).toBe("running");

      for (const c of clients) c.abort();
      expect(await Promise.all(migrations.slice(1))).toEqual(["Canceled", "Canceled", "Canceled"]);
      for (const name of names) expect(domstate(name)).toBe("running");
    },
    STEP_MS,
  );
});

/** 200 GetVMStatus at once over the VMs; each one's latency, ms. */
async function statusLatencies(t: LibvirtTestDaemon, ids: string[]): Promise<number[]> {
  return Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const start = performance.now();
      await t.grpc.getVMStatus({ vmId: ids[i % ids.length] as string });
      return performance.now() - start;
    }),
  );
}

async function until(what: string, cond: () => boolean, ms = 60_000, state: () => string = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what} ${state()}`);
    await Bun.sleep(10);
  }
}
