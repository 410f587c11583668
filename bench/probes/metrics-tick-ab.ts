// Two daemons side by side in host shape: this checkout's and another's (an older commit in a
// git worktree), on the same 20 running tiny VMs at the same time, each with one StreamMetrics
// subscriber at 1 s: the CPU a tick adds over idle, per daemon. On a shared, noisy machine a
// change is judged by the ratio of two daemons measured in the same minutes, not by two runs.
// Idle windows first, then the subscribers stay: LQ_WARM_S (600) of JIT warm-up, then windows.
// Run: git worktree add /tmp/wt-old <commit> && ln -s $PWD/node_modules /tmp/wt-old/
//      LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/metrics-tick-ab.ts /tmp/wt-old [windowS=30] [rounds=3]
// or a setting against none, both daemons this checkout's:
//      LQ_AB_ENV='{"NAME":"value"}' LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/metrics-tick-ab.ts .

import { create, toBinary } from "@bufbuild/protobuf";
import { join, resolve } from "node:path";
import { StreamMetricsRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { startFakeControlPlane } from "../../test/registration/fake-control-plane.ts";
import { freePort } from "../../test/support/free-port.ts";
import { openStream, type StreamCounter } from "../lib/grpc-stream-client.ts";
import {
  connectJson,
  createTinyVms,
  hostDaemonArgs,
  jitCpuMs,
  runStorage,
  threadCpu,
  threadDelta,
  TICK_WARM_UP_MS,
  unitEnvironment,
} from "../lib/host-shape-kit.ts";
import { fmt } from "../lib/stats.ts";
import { NODE_SERVICE } from "../sections/section.ts";

process.env.LQ_BENCH_PREFIX ??= "lq14ab-";
const other = process.argv[2];
if (!other) throw new Error("usage: metrics-tick-ab.ts <other checkout> [windowS] [rounds]");
const windowS = Number(process.argv[3] ?? 30);
const rounds = Number(process.argv[4] ?? 3);
const WARM_S = Number(process.env.LQ_WARM_S ?? TICK_WARM_UP_MS / 1000);

type StartChild = typeof import("../lib/child.ts").startChild;
/** LQ_AB_ENV: JSON of environment variables given to the other daemon only (a runtime setting against none). */
const otherEnv = JSON.parse(process.env.LQ_AB_ENV ?? "{}") as Record<string, string>;
const sides = [
  { label: "this", root: join(import.meta.dir, "..", ".."), env: {} },
  { label: process.env.LQ_AB_ENV ? `${other} ${process.env.LQ_AB_ENV}` : other, root: resolve(other), env: otherEnv },
];
interface Daemon {
  label: string;
  storage: ReturnType<typeof runStorage>;
  port: number;
  child: Awaited<ReturnType<StartChild>>;
  idleMs: number;
  withMs: number;
  jitMs: number;
  samples: number;
  /** Per thread name, CPU ms over the idle windows and the windows with a subscriber. */
  threads: { idleMs: Map<string, number>; withMs: Map<string, number> };
  /** Per thread name, kernel ms (10 ms ticks) over the same windows. */
  kernel: { idleMs: Map<string, number>; withMs: Map<string, number> };
}
const cp = await startFakeControlPlane();
const daemons: Daemon[] = [];
for (const side of sides) {
  const { startChild } = (await import(join(side.root, "bench/lib/child.ts"))) as { startChild: StartChild };
  const storage = runStorage();
  const port = await freePort();
  const child = await startChild<{ pid: number; port: number }>("host-daemon.ts", hostDaemonArgs(storage, cp.url, port, await freePort()), undefined, {
    ...unitEnvironment(),
    ...side.env,
  });
  daemons.push({
    ...side,
    storage,
    port,
    child,
    idleMs: 0,
    withMs: 0,
    jitMs: 0,
    samples: 0,
    threads: { idleMs: new Map<string, number>(), withMs: new Map<string, number>() },
    kernel: { idleMs: new Map<string, number>(), withMs: new Map<string, number>() },
  });
}
const cpuMs = (pid: number) => Object.values(threadCpu(pid)).reduce((s, t) => s + t.cpuMs, 0);
try {
  // The VMs through the first daemon; the bulk statistics call of each daemon sees every domain.
  const [first] = daemons;
  await createTinyVms(
    connectJson(first!.port),
    Array.from({ length: 20 }, (_, i) => `${first!.storage.pool}-run-${i}`),
    true,
  );
  await Bun.sleep(60_000);
  const window = async (field: "idleMs" | "withMs", streams?: StreamCounter[]) => {
    const t0 = daemons.map((d) => threadCpu(d.child.pid));
    const c0 = daemons.map((d) => cpuMs(d.child.pid));
    const n0 = streams?.map((s) => s.count);
    await Bun.sleep(windowS * 1000);
    daemons.forEach((d, i) => {
      d[field] += cpuMs(d.child.pid) - c0[i]!;
      for (const t of threadDelta(t0[i]!, threadCpu(d.child.pid))) {
        d.threads[field].set(t.name, (d.threads[field].get(t.name) ?? 0) + t.cpuMs);
        d.kernel[field].set(t.name, (d.kernel[field].get(t.name) ?? 0) + t.kernelMs);
      }
      if (streams && n0) {
        d.samples += streams[i]!.count - n0[i]!;
        d.jitMs += jitCpuMs(t0[i]!, threadCpu(d.child.pid)) ?? 0;
      }
    });
  };
  for (let r = 0; r < rounds; r++) await window("idleMs");
  const request = toBinary(StreamMetricsRequestSchema, create(StreamMetricsRequestSchema, { intervalMs: 1000 }));
  const streams = daemons.map((d) => openStream(`http://127.0.0.1:${d.port}`, `${NODE_SERVICE}/StreamMetrics`, request));
  try {
    await Promise.all(streams.map((s) => s.waitFor(2, 30_000)));
    await Bun.sleep(WARM_S * 1000);
    for (let r = 0; r < rounds; r++) await window("withMs", streams);
  } finally {
    for (const s of streams) s.close();
  }
  const seconds = windowS * rounds;
  const rows = daemons.map((d) => ({
    daemon: d.label,
    "idle ms/s": fmt(d.idleMs / seconds),
    "with ms/s": fmt(d.withMs / seconds),
    samples: d.samples,
    "added ms/tick": fmt((d.withMs - d.idleMs) / d.samples),
    "JIT ms/tick": fmt(d.jitMs / d.samples),
  }));
  console.log(`${windowS} s x ${rounds} windows each, after ${WARM_S} s of warm-up; the VMs: 20 running`);
  console.table(rows);
  // Per thread: what a tick added (ms), each daemon side by side.
  const names = [...new Set(daemons.flatMap((d) => [...d.threads.withMs.keys(), ...d.threads.idleMs.keys()]))];
  const added = (d: Daemon, n: string) => ((d.threads.withMs.get(n) ?? 0) - (d.threads.idleMs.get(n) ?? 0)) / d.samples;
  const addedKernel = (d: Daemon, n: string) => ((d.kernel.withMs.get(n) ?? 0) - (d.kernel.idleMs.get(n) ?? 0)) / d.samples;
  console.table(
    names
      .sort((x, y) => added(daemons[0]!, y) - added(daemons[0]!, x))
      .map((n) => ({ thread: n, ...Object.fromEntries(daemons.map((d) => [d.label, `${fmt(added(d, n))} (kernel ${fmt(addedKernel(d, n))})`])) })),
  );
  const [a, b] = daemons;
  console.log(`added per tick, ${a!.label} / ${b!.label}: ${fmt((a!.withMs - a!.idleMs) / a!.samples / ((b!.withMs - b!.idleMs) / b!.samples))}`);
} finally {
  for (const d of daemons) {
    await d.child.stop();
    d.storage.remove();
  }
  await cp.close();
}
