// The parts of a metrics tick, each alone at one run a second (as the daemon runs them: cold),
// each in its own process, all side by side on the same 20 running tiny VMs: the CPU of every
// thread per run after a warm-up, with a bare 1 s loop ("idle") as the floor to take off.
// Parts: the bulk statistics call alone (freed unread), the call with every parameter name made a
// string (the reading before the byte trie), the call read as the call Worker reads it, and the
// host sample, and a round trip to a Bun Worker whose answer is 20 records of the call Worker's
// shape (the hop the daemon makes, with no libvirt in it). The last row adds up what a tick must
// do with the parts done the cheapest way (the call read in one thread, no Worker, and the host
// sample), and the hop. Its libvirt objects are named lq14p-... and removed at the end.
// Run: LIMIQUANTIX_REAL_LIBVIRT=1 bun bench/probes/tick-parts.ts [runs=150] [warm=60]

import { readdirSync, readFileSync } from "node:fs";
import { startFakeControlPlane } from "../../test/registration/fake-control-plane.ts";
import { freePort } from "../../test/support/free-port.ts";
import { startChild } from "../lib/child.ts";
import { connectJson, createTinyVms, hostDaemonArgs, runStorage, unitEnvironment } from "../lib/host-shape-kit.ts";

const PARTS = ["idle", "stats-call", "stats-strings", "stats-figures", "host-sample", "worker-hop"] as const;
/** The parts every tick has to do, whatever the design: one bulk statistics call read, and the host read. */
const MUST = ["stats-figures", "host-sample"] as const;

/** A Worker that answers each message with 20 records shaped like the call Worker's VmFigures. */
const ECHO_WORKER = `
const figures = Array.from({ length: 20 }, (_, i) => ({
  uuid: crypto.randomUUID(), name: "lq14p-run-" + i, state: 1, reason: 1, cpuTimeNs: 1e12 + i, vcpus: 1,
  memoryTotalKib: 65536, memoryUsedKib: 60000 + i, diskReadBytes: i, diskWriteBytes: i, diskReadOps: i, diskWriteOps: i,
  networkRxBytes: i, networkTxBytes: i, networkRxPackets: i, networkTxPackets: i,
}));
self.onmessage = () => postMessage(figures);
`;

function echoWorker(): () => Promise<unknown> {
  const worker = new Worker(URL.createObjectURL(new Blob([ECHO_WORKER], { type: "application/javascript" })));
  return () =>
    new Promise((resolve) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.postMessage({ op: "vmMetrics" });
    });
}
type Part = (typeof PARTS)[number];

/** Every thread's CPU so far, ms (schedstat: ns). */
function processCpuMs(): number {
  let ms = 0;
  for (const t of readdirSync("/proc/self/task")) {
    try {
      ms += Number(readFileSync(`/proc/self/task/${t}/schedstat`, "utf8").split(" ")[0]) / 1e6;
    } catch {}
  }
  return ms;
}

async function runPart(part: Part, runs: number, warm: number): Promise<void> {
  const ffi = await import("../../src/hypervisor/libvirt/ffi/index.ts");
  const { figuresOf, figuresWithSize } = await import("../../src/hypervisor/libvirt/vm-figures.ts");
  const { createTelemetry } = await import("../../src/telemetry/index.ts");
  const lv = ffi.loadLibvirt();
  const c = ffi.openConnection(lv, "qemu:///system");
  const telemetry = createTelemetry({ procRoot: "/proc", sysRoot: "/sys", etcRoot: "/etc", filesystemPaths: ["/", "/tmp"] });
  const known = new Map<string, import("../../src/hypervisor/libvirt/vm-figures.ts").KnownSize>();
  const once: Record<Part, () => Promise<unknown> | unknown> = {
    idle: () => undefined,
    "stats-call": () => {
      const out = ffi.outPointer();
      if (lv.sym.virConnectGetAllDomainStats(c.ptr, ffi.METRICS_STATS, out.addr, ffi.STATS_NOWAIT) < 0) throw new Error("stats call failed");
      lv.sym.virDomainStatsRecordListFree(out.value());
    },
    "stats-strings": () => ffi.allDomainStats(c, ffi.METRICS_STATS, ffi.STATS_NOWAIT, (r) => r.visitParams(() => {})),
    "stats-figures": () => {
      for (const f of ffi.allDomainStats(c, ffi.METRICS_STATS, ffi.STATS_NOWAIT, (r) =>
        figuresWithSize(figuresOf(r), ffi.domainRunId(c, r.dom), known.get(r.uuid), () => ffi.sizeOfDomain(c, r.dom)),
      )) {
        if (f.sizeRead) known.set(f.uuid, f.sizeRead);
      }
    },
    "host-sample": () => telemetry.sample(),
    "worker-hop": part === "worker-hop" ? echoWorker() : () => undefined,
  };
  let start = 0;
  for (let i = 0; i < warm + runs; i++) {
    if (i === warm) start = processCpuMs();
    await once[part]();
    await Bun.sleep(1000);
  }
  console.log(JSON.stringify({ part, msPerRun: (processCpuMs() - start) / runs }));
}

const [, , first, second, third] = process.argv;
if (first === "--part") {
  await runPart(second as Part, Number(third), Number(process.argv[5]));
  process.exit(0);
}
const runs = Number(first ?? 150);
const warm = Number(second ?? 60);
process.env.LQ_BENCH_PREFIX ??= "lq14p-";
const storage = runStorage();
try {
  // The VMs through a daemon, which then goes: only the parts' processes remain.
  const cp = await startFakeControlPlane();
  const port = await freePort();
  const daemon = await startChild<{ pid: number; port: number }>(
    "host-daemon.ts",
    hostDaemonArgs(storage, cp.url, port, await freePort()),
    undefined,
    unitEnvironment(),
  );
  try {
    await createTinyVms(
      connectJson(port),
      Array.from({ length: 20 }, (_, i) => `${storage.pool}-run-${i}`),
      true,
    );
  } finally {
    await daemon.stop();
    await cp.close();
  }
  const children = PARTS.map((part) =>
    Bun.spawn([process.execPath, import.meta.path, "--part", part, String(runs), String(warm)], {
      env: { ...process.env, ...unitEnvironment() },
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  const results = await Promise.all(
    children.map(async (p) => JSON.parse((await new Response(p.stdout).text()).trim().split("\n").pop() ?? "{}") as { part: Part; msPerRun: number }),
  );
  const floor = results.find((r) => r.part === "idle")?.msPerRun ?? 0;
  console.log(`${runs} runs a second apart after ${warm} of warm-up, each part in its own process, side by side; 20 running VMs`);
  const over = (part: Part) => (results.find((r) => r.part === part)?.msPerRun ?? 0) - floor;
  const must = MUST.reduce((sum, part) => sum + over(part), 0);
  console.table([
    ...results.map((r) => ({ part: r.part, "ms per run": r.msPerRun.toFixed(3), "over idle": (r.msPerRun - floor).toFixed(3) })),
    { part: MUST.join(" + "), "ms per run": "", "over idle": must.toFixed(3) },
    { part: `${MUST.join(" + ")} + worker-hop`, "ms per run": "", "over idle": (must + over("worker-hop")).toFixed(3) },
  ]);
} finally {
  storage.remove();
}
