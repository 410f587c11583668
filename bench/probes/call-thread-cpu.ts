// The CPU each thread spends per libvirt call made through the backend (vmMetrics: one bulk
// statistics RPC), this checkout against another (an older commit in a git worktree), one
// process at a time, alternating: N calls at 200 a second after a warm-up, per thread from
// schedstat. The busiest Worker is the call Worker that ran them; the next is the event Worker,
// which makes no call but is woken by libvirt around each one (bench/README.md, "A host's shape").
// Also each call's time, API thread to API thread (p50).
// Needs the system libvirtd (scripts/setup-libvirt.sh); any domains on it are read every call.
// Run: git worktree add /tmp/wt-old <commit> && ln -s $PWD/node_modules /tmp/wt-old/
//      LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/call-thread-cpu.ts /tmp/wt-old [calls=1000] [rounds=3]

import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { realTierStorage } from "../../test/hypervisor/libvirt/real/helpers.ts";
import { threadCpu } from "../lib/host-shape-kit.ts";
import { fmt } from "../lib/stats.ts";

async function measure(root: string, calls: number): Promise<void> {
  const { createLibvirtHypervisor } = await import(join(root, "src/hypervisor/libvirt/index.ts"));
  const storage = realTierStorage("lq14w-");
  const hv = await createLibvirtHypervisor({ uri: "qemu:///system", storagePath: storage.storagePath, consoleListen: "127.0.0.1", poolName: storage.poolName });
  try {
    for (let i = 0; i < 200; i++) {
      await hv.vmMetrics();
      await Bun.sleep(5);
    }
    const before = threadCpu(process.pid);
    const took: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await hv.vmMetrics();
      took.push(performance.now() - t0);
      await Bun.sleep(5);
    }
    const after = threadCpu(process.pid);
    took.sort((a, b) => a - b);
    const us = (k: string) => (((after[k]?.cpuMs ?? 0) - (before[k]?.cpuMs ?? 0)) * 1000) / calls;
    const keys = Object.keys(after);
    const workers = keys.filter((k) => k.endsWith(":Worker")).sort((a, b) => us(b) - us(a));
    const main = keys.find((k) => k.startsWith(`${process.pid}:`)) ?? "";
    const p50 = (took[Math.floor(took.length / 2)] ?? Number.NaN) * 1000;
    console.log(JSON.stringify({ main: us(main), call: us(workers[0] ?? ""), event: us(workers[1] ?? ""), all: keys.reduce((s, k) => s + us(k), 0), p50 }));
  } finally {
    await hv.close();
    storage.remove();
  }
}

if (process.env.LQ_PROBE_CHILD) {
  await measure(process.env.LQ_PROBE_CHILD, Number(process.argv[2] ?? 1000));
  process.exit(0);
}

const other = process.argv[2];
if (!other) throw new Error("usage: call-thread-cpu.ts <other checkout> [calls] [rounds]");
const calls = Number(process.argv[3] ?? 1000);
const rounds = Number(process.argv[4] ?? 3);
const sides = [
  { label: "this", root: join(import.meta.dir, "..", "..") },
  { label: other, root: resolve(other) },
];
const rows: Record<string, string>[] = [];
for (let r = 0; r < rounds; r++) {
  for (const side of sides) {
    const child = spawnSync(process.execPath, [import.meta.path, String(calls)], { env: { ...process.env, LQ_PROBE_CHILD: side.root }, encoding: "utf8" });
    const line = child.stdout.trim().split("\n").at(-1) ?? "";
    if (child.status !== 0 || !line.startsWith("{")) throw new Error(`${side.label}: ${child.stderr}`);
    const f = JSON.parse(line) as { main: number; call: number; event: number; all: number; p50: number };
    rows.push({
      round: String(r + 1),
      checkout: side.label,
      "API thread us": fmt(f.main),
      "call Worker us": fmt(f.call),
      "event Worker us": fmt(f.event),
      "all threads us": fmt(f.all),
      "call p50 us": fmt(f.p50),
    });
  }
}
console.log(`CPU per vmMetrics call, ${calls} calls at 200/s per process, alternating`);
console.table(rows);
