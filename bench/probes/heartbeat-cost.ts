// What one heartbeat costs the daemon in host shape (libvirt on qemu:///system, registration on):
// the same daemon (bench/servers/host-daemon.ts) is told by a fake control plane to beat every
// second, then every 15 s, windows interleaved; CPU per beat = the difference of the CPU rates
// over the difference of the beat rates (per thread). Its libvirt pool is lq14e-... (LQ_BENCH_PREFIX).
// Run: LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/heartbeat-cost.ts [windowS=20] [rounds=2]

import { startFakeControlPlane } from "../../test/registration/fake-control-plane.ts";
import { startChild } from "../lib/child.ts";
import { freePort } from "../../test/support/free-port.ts";
import { hostDaemonArgs, runStorage, threadCpu, threadDelta, unitEnvironment } from "../lib/host-shape-kit.ts";

const windowS = Number(process.argv[2] ?? 20);
const rounds = Number(process.argv[3] ?? 2);
process.env.LQ_BENCH_PREFIX ??= "lq14e-";
const storage = runStorage();
const cp = await startFakeControlPlane({ heartbeatIntervalSecs: 1 });
const child = await startChild<{ pid: number; port: number }>(
  "host-daemon.ts",
  hostDaemonArgs(storage, cp.url, await freePort(), await freePort()),
  undefined,
  unitEnvironment(),
);
const beats = () => cp.callsTo("UpdateHeartbeat").length;
try {
  for (let i = 0; i < 200 && beats() < 3; i++) await Bun.sleep(100);
  const sums = { fast: { cpu: 0, beats: 0, s: 0 }, slow: { cpu: 0, beats: 0, s: 0 } };
  const threads = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    for (const [kind, secs] of [
      ["fast", 1],
      ["slow", 15],
    ] as const) {
      cp.setHeartbeatIntervalSecs(secs);
      await Bun.sleep(secs === 1 ? 16_000 : 2_000); // the interval in force changes at the next beat
      const t0 = threadCpu(child.pid);
      const b0 = beats();
      const w0 = performance.now();
      await Bun.sleep(windowS * 1000);
      const d = threadDelta(t0, threadCpu(child.pid));
      const cpu = d.reduce((a, t) => a + t.cpuMs, 0);
      sums[kind].cpu += cpu;
      sums[kind].beats += beats() - b0;
      sums[kind].s += (performance.now() - w0) / 1000;
      if (kind === "fast") for (const t of d) threads.set(t.name, (threads.get(t.name) ?? 0) + t.cpuMs);
      console.log(`${kind}: ${cpu.toFixed(0)} ms CPU, ${beats() - b0} beats in ${windowS} s`);
    }
  }
  const rate = (k: "fast" | "slow") => ({ cpu: sums[k].cpu / sums[k].s, beats: sums[k].beats / sums[k].s });
  const f = rate("fast");
  const s = rate("slow");
  console.log(
    `CPU per heartbeat: ${((f.cpu - s.cpu) / (f.beats - s.beats)).toFixed(2)} ms (${f.cpu.toFixed(2)} ms/s at ${f.beats.toFixed(2)} beats/s, ${s.cpu.toFixed(2)} ms/s at ${s.beats.toFixed(2)} beats/s)`,
  );
  console.log(`threads in the fast windows: ${[...threads].map(([n, ms]) => `${n} ${ms.toFixed(0)} ms`).join(", ")}`);
} finally {
  await child.stop();
  await cp.close();
  storage.remove();
}
