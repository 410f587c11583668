// The lanes section's scenario, run in a process of its own (bench/sections/lanes.ts starts it
// and reads the JSON line it prints): the daemon on qemu:///system with four running guests (no
// disk, no OS); GetVMStatus one call at a time with no migration, then beside four live
// migrations to silent peers (in progress until the peers hang up), then each MigrateVM
// cancelled by its client, timed to the end of the daemon's handler (abortJob sent on the
// job-control Worker), then GetVMStatus again with no migration.

import { callLanesForTest } from "../../src/hypervisor/libvirt/libvirt-hypervisor.ts";
import { REAL, realDomainType, URI, virsh, virshQuietly } from "../../test/hypervisor/libvirt/real/helpers.ts";
import { startLibvirtDaemon, type LibvirtTestDaemon } from "../../test/libvirt-api/helpers.ts";
import { silentPeer } from "../../test/libvirt-api/real-helpers.ts";

const calls = Number(process.argv[2] ?? 200);
const HOLD_MS = 120_000;

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(5);
  }
}

async function statusOneByOne(t: LibvirtTestDaemon, ids: string[], n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await t.grpc.getVMStatus({ vmId: ids[i % ids.length] as string });
    out.push(performance.now() - start);
  }
  return out;
}

async function main(): Promise<void> {
  if (!REAL) throw new Error("needs LIMIQUANTIX_REAL_LIBVIRT=1");
  const run = crypto.randomUUID().slice(0, 8);
  const names = [0, 1, 2, 3].map((i) => `lq14a-bench-${run}-${i}`);
  const ids = names.map(() => crypto.randomUUID());
  const t = await startLibvirtDaemon({ uri: URI, poolName: `lq14a-bench-${run}` });
  const peers: Awaited<ReturnType<typeof silentPeer>>[] = [];
  try {
    for (const [i, name] of names.entries()) {
      const file = `${t.storagePath}/${name}.xml`;
      await Bun.write(
        file,
        `<domain type='${realDomainType()}'><name>${name}</name><uuid>${ids[i]}</uuid><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>`,
      );
      virsh("define", file);
      virsh("start", name);
      peers.push(await silentPeer(HOLD_MS));
    }
    await statusOneByOne(t, ids, 20);
    const before = await statusOneByOne(t, ids, calls);

    const clients = ids.map(() => new AbortController());
    const migrations = ids.map((id, i) =>
      (async () => {
        try {
          for await (const _ of t.grpc.migrateVM(
            { vmId: id, targetNodeUri: `qemu+tcp://127.0.0.1:${peers[i]?.port}/system`, live: true },
            { signal: clients[i]?.signal },
          )) {
          }
        } catch {}
      })(),
    );
    await until("4 migrations hold the long lane", () => callLanesForTest(t.daemon.hypervisor).long.busy === 4);
    const beside = await statusOneByOne(t, ids, calls);
    const inProgress = callLanesForTest(t.daemon.hypervisor).long.busy;

    const cancelMs: number[] = [];
    for (const c of clients) {
      const open = t.daemon.stats().activeCalls;
      const start = performance.now();
      c.abort();
      await until("the MigrateVM handler ends", () => t.daemon.stats().activeCalls === open - 1);
      cancelMs.push(performance.now() - start);
    }
    await Promise.all(migrations);
    const running = names.map((n) => virsh("domstate", n));
    const after = await statusOneByOne(t, ids, calls);
    console.log(JSON.stringify({ before, beside, after, cancelMs, inProgress, running }));
  } finally {
    for (const p of peers) await p.close();
    for (const name of names) {
      virshQuietly(["destroy", name], ["undefine", name]);
    }
    await t.stop();
    virshQuietly(["pool-destroy", t.poolName], ["pool-undefine", t.poolName]);
  }
}

await main();
process.exit(0);
