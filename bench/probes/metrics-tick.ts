// Where a StreamMetrics tick's CPU goes in host shape (libvirt on qemu:///system, 20 running tiny
// VMs, one subscriber at 1 s): per thread, windows without and then with the subscriber,
// CPU from the scheduler's ns accounting; the difference per sample received, per thread. Idle
// windows first, then the subscriber stays: LQ_WARM_S (600, TICK_WARM_UP_MS) of JIT warm-up,
// then its windows (compilation is paid once in a daemon's life, not per tick). With
// --prof, the API thread's CPU profile (Bun's --cpu-prof-md) is written to /tmp/metrics-tick-prof.
// Its libvirt objects are named lq14h-... and removed at the end.
// Run: LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/metrics-tick.ts [windowS=15] [rounds=2] [--prof]

import { create, toBinary } from "@bufbuild/protobuf";
import { StreamMetricsRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { startFakeControlPlane } from "../../test/registration/fake-control-plane.ts";
import { startChild } from "../lib/child.ts";
import { freePort } from "../../test/support/free-port.ts";
import { openStream } from "../lib/grpc-stream-client.ts";
import { connectJson, createTinyVms, hostDaemonArgs, runStorage, threadCpu, threadDelta, TICK_WARM_UP_MS, unitEnvironment } from "../lib/host-shape-kit.ts";
import { fmt } from "../lib/stats.ts";
import { NODE_SERVICE } from "../sections/section.ts";

process.env.LQ_BENCH_PREFIX ??= "lq14h-";
const numbers = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const windowS = Number(numbers[0] ?? 15);
const rounds = Number(numbers[1] ?? 2);
const prof = process.argv.includes("--prof");
const WARM_S = Number(process.env.LQ_WARM_S ?? TICK_WARM_UP_MS / 1000);
const storage = runStorage();
const cp = await startFakeControlPlane();
const port = await freePort();
const env = { ...unitEnvironment(), ...(prof ? { BUN_OPTIONS: process.env.LQ_PROF_OPTIONS ?? "--cpu-prof-md --cpu-prof-dir=/tmp/metrics-tick-prof" } : {}) };
const child = await startChild<{ pid: number; port: number }>("host-daemon.ts", hostDaemonArgs(storage, cp.url, port, await freePort()), undefined, env);
type Delta = ReturnType<typeof threadDelta>;
const add = (acc: Map<string, number>, d: Delta) => {
  for (const t of d) acc.set(t.name, (acc.get(t.name) ?? 0) + t.cpuMs);
};
try {
  const api = connectJson(port);
  await createTinyVms(
    api,
    Array.from({ length: 20 }, (_, i) => `${storage.pool}-run-${i}`),
    true,
  );
  // A minute for the JIT to finish with the VMs' creation before the idle windows.
  await Bun.sleep(60_000);
  const request = toBinary(StreamMetricsRequestSchema, create(StreamMetricsRequestSchema, { intervalMs: 1000 }));
  const without = new Map<string, number>();
  const withSub = new Map<string, number>();
  const window = async (into: Map<string, number>) => {
    const t0 = threadCpu(child.pid);
    await Bun.sleep(windowS * 1000);
    add(into, threadDelta(t0, threadCpu(child.pid)));
  };
  // Idle first, then one subscriber that stays (as the host-shape section: a stream stopped and
  // started between windows has the JIT compile its set-up again).
  for (let r = 0; r < rounds; r++) await window(without);
  const stream = openStream(`http://127.0.0.1:${port}`, `${NODE_SERVICE}/StreamMetrics`, request);
  let samples = 0;
  try {
    await stream.waitFor(2, 30_000);
    await Bun.sleep(WARM_S * 1000);
    for (let r = 0; r < rounds; r++) {
      const n0 = stream.count;
      await window(withSub);
      samples += stream.count - n0;
    }
  } finally {
    stream.close();
  }
  const seconds = windowS * rounds;
  const names = [...new Set([...without.keys(), ...withSub.keys()])];
  const rows = names
    .map((n) => ({
      thread: n,
      "idle ms/s": (without.get(n) ?? 0) / seconds,
      "with ms/s": (withSub.get(n) ?? 0) / seconds,
      "added ms/sample": ((withSub.get(n) ?? 0) - (without.get(n) ?? 0)) / samples,
    }))
    .sort((a, b) => b["with ms/s"] - a["with ms/s"]);
  const total = rows.reduce((s, r) => ({ idle: s.idle + r["idle ms/s"], with: s.with + r["with ms/s"], added: s.added + r["added ms/sample"] }), {
    idle: 0,
    with: 0,
    added: 0,
  });
  console.log(
    `${samples} samples in ${seconds} s; daemon CPU ${fmt(total.with)} ms/s with the subscriber, ${fmt(total.idle)} ms/s without; ${fmt(total.added)} ms added per sample`,
  );
  console.table(
    rows.map((r) => ({ thread: r.thread, "idle ms/s": fmt(r["idle ms/s"]), "with ms/s": fmt(r["with ms/s"]), "added ms/sample": fmt(r["added ms/sample"]) })),
  );
} finally {
  await child.stop();
  await cp.close();
  storage.remove();
}
