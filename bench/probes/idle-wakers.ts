// What wakes the daemon at idle in host shape (libvirt on qemu:///system, registration on, 10
// defined VMs of which 2 run, nothing asked): per thread, CPU time from the scheduler's own
// nanosecond accounting (/proc/<pid>/task/<tid>/schedstat, not 10 ms ticks) and wakeups
// (context switches), over one window; with --strace, the syscalls each thread made meanwhile.
// The daemon gets the environment deploy/limiquantix-node.service gives it.
// Its libvirt objects are named lq14g-... and removed at the end.
// Run: LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/idle-wakers.ts [windowS=60] [--strace]

import { join } from "node:path";
import { startFakeControlPlane } from "../../test/registration/fake-control-plane.ts";
import { startChild } from "../lib/child.ts";
import { freePort } from "../../test/support/free-port.ts";
import { connectJson, createTinyVms, hostDaemonArgs, runStorage, threadCpu, threadDelta, unitEnvironment } from "../lib/host-shape-kit.ts";
import { fmt } from "../lib/stats.ts";

process.env.LQ_BENCH_PREFIX ??= "lq14g-";
const windowS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 60);
const strace = process.argv.includes("--strace");
const storage = runStorage();
const cp = await startFakeControlPlane();
const port = await freePort();
const child = await startChild<{ pid: number; port: number }>(
  "host-daemon.ts",
  hostDaemonArgs(storage, cp.url, port, await freePort()),
  undefined,
  unitEnvironment(),
);
try {
  const api = connectJson(port);
  await createTinyVms(
    api,
    [0, 1].map((i) => `${storage.pool}-run-${i}`),
    true,
  );
  await createTinyVms(
    api,
    Array.from({ length: 8 }, (_, i) => `${storage.pool}-off-${i}`),
    false,
  );
  await Bun.sleep(10_000);
  const tracer = strace
    ? Bun.spawn(["strace", "-f", "-qq", "-tt", "-e", "trace=!futex", "-o", join(storage.root, "strace.txt"), "-p", String(child.pid)], { stderr: "ignore" })
    : undefined;
  const beats0 = cp.callsTo("UpdateHeartbeat").length;
  const t0 = threadCpu(child.pid);
  await Bun.sleep(windowS * 1000);
  const threads = threadDelta(t0, threadCpu(child.pid));
  tracer?.kill("SIGINT");
  await tracer?.exited;
  const total = threads.reduce((s, t) => s + t.cpuMs, 0);
  console.log(
    `daemon CPU ${fmt(total)} ms in ${windowS} s = ${fmt((100 * total) / (windowS * 1000))} % of a core; heartbeats ${cp.callsTo("UpdateHeartbeat").length - beats0}`,
  );
  console.table(threads.map((t) => ({ thread: t.name, "CPU ms": fmt(t.cpuMs), "wakeups/s": fmt(t.switches / windowS) })));
  if (tracer) {
    const text = await Bun.file(join(storage.root, "strace.txt")).text();
    await Bun.write(process.env.LQ_STRACE_OUT ?? "/tmp/idle-wakers.strace", text);
    const lines = text.split("\n").filter(Boolean);
    const bySyscall = new Map<string, number>();
    for (const l of lines) {
      const m = /^(\d+)\s+\S+\s+(\w+)\(/.exec(l);
      if (m) bySyscall.set(`${m[1]} ${m[2]}`, (bySyscall.get(`${m[1]} ${m[2]}`) ?? 0) + 1);
    }
    console.table(
      [...bySyscall.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 30)
        .map(([k, n]) => ({ "tid syscall": k, "per s": fmt(n / windowS) })),
    );
  }
} finally {
  await child.stop();
  await cp.close();
  storage.remove();
}
