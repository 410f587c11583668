// The daemon in a host's shape on the system libvirt (qemu:///system): registration on against
// a fake control plane, Prometheus and the guest agent manager on, tiny diskless guests (64 MiB,
// no OS, they idle in the firmware). Four budgets of issue 14:
// - idle: 10 defined VMs, 2 running, nothing asked: daemon CPU time / wall time over the window,
//   with the threads that used it and how often each woke;
// - metrics: 20 running VMs, StreamMetrics at 1 s: daemon CPU per tick, windows with and without
//   the subscriber interleaved (one bulk statistics call per tick: vm-figures.ts);
// - GetVMStatus over gRPC next to the same reads done directly over FFI in this process;
// - the control plane's CreateVM (test/contract/cp-vectors.ts) + StartVM next to `virsh define`
//   + `virsh start` of the XML that CreateVM wrote, alternating, median of per-round ratios.
// Needs LIMIQUANTIX_REAL_LIBVIRT=1 (libvirtd from scripts/setup-libvirt.sh). Every libvirt
// object is named lq14d-... and removed at the end, also when a step fails.

import { copyFileSync, existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CreateVMOnNodeRequestSchema, StreamMetricsRequestSchema, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { create } from "@bufbuild/protobuf";
import * as ffi from "../../src/hypervisor/libvirt/ffi/index.ts";
import { startFakeControlPlane } from "../../test/registration/fake-control-plane.ts";
import { bytesOf, vector } from "../../test/contract/cp-vectors.ts";
import { rawGrpcClient } from "../../test/support/raw-grpc.ts";
import { readStatusByHand } from "../../test/support/libvirt-reads-by-hand.ts";
import type { BenchContext } from "../lib/context.ts";
import { freePort } from "../../test/support/free-port.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { openStream } from "../lib/grpc-stream-client.ts";
import { GRPC_HEADERS, h2loadAvailable, runH2load } from "../lib/h2load.ts";
import {
  connectJson,
  createTinyVms,
  hostDaemonArgs,
  type DaemonApi,
  libvirtBack,
  libvirtdIdentity,
  cpuBetween,
  cpuReading,
  PREFIX,
  runStorage,
  threadDelta,
  jitCpuMs,
  TICK_WARM_UP_MS,
  unitEnvironment,
  URI,
  virsh,
} from "../lib/host-shape-kit.ts";
import { type BenchRow, failedRow, skippedRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "host-shape";

function unavailable(): string | undefined {
  if (process.env.LIMIQUANTIX_REAL_LIBVIRT !== "1") return "set LIMIQUANTIX_REAL_LIBVIRT=1 (after scripts/setup-libvirt.sh) to run it on qemu:///system";
  try {
    virsh("uri");
  } catch (err) {
    return `libvirt at ${URI} does not answer: ${(err as Error).message}`;
  }
  if (!h2loadAvailable()) return "h2load not installed (apt-get install nghttp2-client)";
  return undefined;
}

interface HostDaemon {
  pid: number;
  port: number;
}

export const hostShapeSection: Section = {
  name: "host-shape",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const why = unavailable();
    if (why) return [skippedRow(SECTION, "idle, metrics, GetVMStatus, CreateVM on qemu:///system", why)];
    const storage = runStorage();
    const cp = await startFakeControlPlane();
    let stopDaemon: (() => Promise<void>) | undefined;
    try {
      const port = await freePort();
      const child = await ctx.server<HostDaemon>(
        "host-shape daemon",
        "host-daemon.ts",
        hostDaemonArgs(storage, cp.url, port, await freePort()),
        undefined,
        unitEnvironment(),
      );
      stopDaemon = () => child.stop();
      const d = child.info;
      const api = connectJson(d.port);
      const name = (what: string, i: number) => `${storage.pool}-${what}-${i}`;
      const running = await createTinyVms(
        api,
        [0, 1].map((i) => name("run", i)),
        true,
      );
      await createTinyVms(
        api,
        Array.from({ length: 8 }, (_, i) => name("off", i)),
        false,
      );
      // Each part on its own: a failure (libvirtd restarted by a neighbour) costs its rows only.
      const rows: BenchRow[] = [];
      // A part during which libvirtd was restarted (by another run on this machine) is repeated.
      const part = async (what: string, fn: () => Promise<BenchRow[]>) => {
        for (let attempt = 1; ; attempt++) {
          const served = libvirtdIdentity();
          let got: BenchRow[] | undefined;
          let failure: unknown;
          try {
            got = await fn();
          } catch (err) {
            failure = err;
          }
          const restarted = served === undefined || libvirtdIdentity() !== served;
          if (restarted && attempt < 3) {
            ctx.log(`host-shape ${what}: libvirtd was restarted meanwhile; again (attempt ${attempt + 1})`);
            await libvirtBack();
            await Bun.sleep(5_000);
            continue;
          }
          if (got) {
            rows.push(...got.map((r) => (attempt > 1 ? { ...r, note: `${r.note ?? ""}; attempt ${attempt} (libvirtd restarted by another run)` } : r)));
          } else {
            ctx.log(`host-shape ${what} failed: ${(failure as Error).stack ?? failure}`);
            rows.push({ ...failedRow(SECTION, failure), name: `${what} (failed)` });
          }
          return;
        }
      };
      await part("idle", async () => [await idleRow(ctx, d, () => cp.callsTo("UpdateHeartbeat").length)]);
      const more = ctx.mode === "smoke" ? 1 : 18;
      await part("metrics", async () => {
        const extra = await createTinyVms(
          api,
          Array.from({ length: more }, (_, i) => name("run", i + 2)),
          true,
        );
        return metricsRows(ctx, d, running.length + extra.length);
      });
      await part("GetVMStatus", () => statusRows(ctx, d, running[0]!));
      await part("CreateVM", () => createRows(ctx, d, api, storage));
      return rows;
    } finally {
      await stopDaemon?.().catch(() => undefined);
      await cp.close();
      await libvirtBack().catch(() => undefined);
      storage.remove();
    }
  },
};

async function idleRow(ctx: BenchContext, d: HostDaemon, heartbeats: () => number): Promise<BenchRow> {
  const windowS = ctx.mode === "smoke" ? 3 : ctx.mode === "quick" ? 30 : 60;
  // Start-up, the VMs' start events, registration and the first syncs settle first.
  await Bun.sleep(ctx.mode === "smoke" ? 500 : 10_000);
  const beats0 = heartbeats();
  const r0 = cpuReading(d.pid);
  const w0 = performance.now();
  await Bun.sleep(windowS * 1000);
  const r1 = cpuReading(d.pid);
  const { ms: cpuMs, exact } = cpuBetween(r0, r1);
  const wallMs = performance.now() - w0;
  const threads = threadDelta(r0.threads, r1.threads);
  const wakeups = threads.reduce((n, t) => n + t.switches, 0);
  const top = threads
    .slice(0, 5)
    .map((t) => `${t.name} ${fmt(t.cpuMs)} ms/${fmt(t.switches / (wallMs / 1000))} wakeups/s`)
    .join(", ");
  return {
    section: SECTION,
    name: "idle daemon CPU, 10 VMs defined, 2 running, registered",
    value: (100 * cpuMs) / wallMs,
    unit: "% of a core",
    budget: { op: "<=", limit: 0.2 },
    note: `${fmt(cpuMs)} ms CPU in ${fmt(wallMs / 1000)} s (${exact ? "per-thread schedstat, ns" : "a thread ended: /proc/<pid>/stat, 10 ms ticks"}); ${heartbeats() - beats0} heartbeats in the window; ${fmt(wakeups / (wallMs / 1000))} thread wakeups/s; busiest threads: ${top}`,
  };
}

async function metricsRows(ctx: BenchContext, d: HostDaemon, vms: number): Promise<BenchRow[]> {
  const windowMs = ctx.mode === "smoke" ? 2_000 : ctx.mode === "quick" ? 10_000 : 20_000;
  const rounds = ctx.mode === "full" ? 3 : 1;
  const request = toBinary(StreamMetricsRequestSchema, create(StreamMetricsRequestSchema, { intervalMs: 1000 }));
  const withSub: number[] = [];
  const without: number[] = [];
  let samples = 0;
  let inexact = 0;
  let jitMs = 0;
  let jitKnown = 0;
  /** The daemon's CPU ms in one window; with jit, the compiler threads' share is counted too. */
  const window = async (jit: boolean) => {
    const a = cpuReading(d.pid);
    await Bun.sleep(windowMs);
    const b = cpuReading(d.pid);
    const w = cpuBetween(a, b);
    if (!w.exact) inexact++;
    const compiler = jit ? jitCpuMs(a.threads, b.threads) : undefined;
    if (compiler !== undefined) {
      jitMs += compiler;
      jitKnown++;
    }
    return w.ms;
  };
  // Idle first (after a minute for the JIT to finish with the VMs' creation), then one subscriber
  // that stays: a stream stopped and started between windows has its set-up and tear-down code
  // compiled (and, unused for a while, thrown away and compiled again) each time, so interleaving
  // would measure the compiler. A control plane keeps its stream open for days.
  const idleSettleMs = ctx.mode === "smoke" ? 0 : 60_000;
  const warmUpMs = ctx.mode === "smoke" ? 2_000 : ctx.mode === "quick" ? TICK_WARM_UP_MS / 3 : TICK_WARM_UP_MS;
  await Bun.sleep(idleSettleMs);
  for (let r = 0; r < rounds; r++) without.push(await window(false));
  const stream = openStream(`http://127.0.0.1:${d.port}`, `${NODE_SERVICE}/StreamMetrics`, request);
  try {
    await stream.waitFor(2, 30_000);
    await Bun.sleep(warmUpMs);
    for (let r = 0; r < rounds; r++) {
      const n0 = stream.count;
      withSub.push(await window(true));
      samples += stream.count - n0;
    }
  } finally {
    stream.close();
  }
  const seconds = (rounds * windowMs) / 1000;
  const cpuWith = withSub.reduce((a, b) => a + b, 0);
  const cpuWithout = without.reduce((a, b) => a + b, 0);
  // A tick whose read outlasts the interval is shared by the next (metrics-hub.ts): with a slow
  // libvirtd fewer samples go out than seconds pass, and each costs what the figure per sample says.
  const jitNote =
    jitKnown > 0
      ? `the compiler threads used ${fmt(jitMs / ((jitKnown * windowMs) / 1000))} ms/s of it`
      : "the compiler threads ended in every window (their share unknown)";
  return [
    {
      section: SECTION,
      name: `StreamMetrics every 1 s, ${vms} running VMs: daemon CPU per tick`,
      value: samples > 0 ? (cpuWith - cpuWithout) / samples : Number.NaN,
      unit: "ms",
      budget: { op: "<=", limit: 2 },
      note: `all the daemon's CPU (every thread) in ${rounds} window(s) of ${fmt(windowMs / 1000)} s with one subscriber minus as long without one (before it came), per sample received (host sample, one bulk statistics call, encoding, sending, and the allocator and collector work they cause); the subscriber ran ${fmt(warmUpMs / 1000)} s before (JIT warm-up) and stayed; ${jitNote}; ${samples} samples in ${fmt(seconds)} s; CPU per thread (schedstat, ns) except in ${inexact} of ${2 * rounds} windows where a thread ended (/proc/<pid>/stat, 10 ms ticks)`,
    },
    {
      section: SECTION,
      name: `StreamMetrics every 1 s, ${vms} running VMs: daemon CPU per second with a subscriber`,
      value: cpuWith / seconds,
      unit: "ms",
      note: `the same windows with the subscriber, idle work included (without one: ${fmt(cpuWithout / seconds)} ms per second with ${vms} VMs running)`,
    },
  ];
}

async function statusRows(ctx: BenchContext, d: HostDaemon, id: string): Promise<BenchRow[]> {
  const body = writeGrpcBody(ctx.tmp, "host-status", VMIdRequestSchema, { vmId: id });
  const reads = ctx.mode === "smoke" ? 5 : 300;
  const byHand: number[] = [];
  const grpc: number[] = [];
  const serverCpu: number[] = [];
  const c = ffi.openConnection(ffi.loadLibvirt(), URI);
  try {
    for (let round = 0; round < ctx.timing.rounds + 1; round++) {
      const times: number[] = [];
      for (let i = 0; i < reads; i++) {
        const t = performance.now();
        readStatusByHand(c, id);
        times.push(performance.now() - t);
      }
      const r = await runH2load({
        url: `http://127.0.0.1:${d.port}${NODE_SERVICE}/GetVMStatus`,
        bodyFile: body,
        headers: GRPC_HEADERS,
        clients: 1,
        streams: 1,
        requests: reads,
        serverPid: d.pid,
      });
      if (r.succeeded < reads) throw new Error(`GetVMStatus: ${r.succeeded} of ${reads} answered`);
      // The first round warms both sides up (JIT, libvirt's caches) and is not counted.
      if (round === 0) continue;
      byHand.push(median(times));
      grpc.push(r.p50Ms);
      serverCpu.push(r.serverCpuUsPerCall / 1000);
    }
  } finally {
    ffi.closeConnection(c);
  }
  const added = median(grpc.map((g, i) => g - byHand[i]!));
  return [
    {
      section: SECTION,
      name: "GetVMStatus over gRPC, p50",
      value: median(grpc),
      unit: "ms",
      note: `h2load, one call at a time, ${reads} calls per round; ${fmt(median(serverCpu))} ms daemon CPU per call`,
    },
    {
      section: SECTION,
      name: "the same reads directly over FFI in one process, p50",
      value: median(byHand),
      unit: "ms",
      note: "lookup, state, inactive XML parsed, snapshots, stats (test/support/libvirt-reads-by-hand.ts), on this process's thread",
    },
    {
      section: SECTION,
      name: "GetVMStatus: what the daemon adds, p50",
      value: added,
      unit: "ms",
      budget: { op: "<=", limit: 1 },
      note: `median over ${grpc.length} interleaved rounds of gRPC p50 - direct p50 (HTTP/2, protobuf, the Worker hop)`,
    },
  ];
}

/** The control plane's CreateVM, its paths pointed at this run's storage, name and id made unique. */
function cpCreateRequest(cloudImage: string, vmName: string, vmId: string): Uint8Array {
  const m = fromBinary(CreateVMOnNodeRequestSchema, bytesOf(vector("CreateVM", "convertToNodeDaemonCreateRequest")));
  m.vmId = vmId;
  m.name = vmName;
  for (const disk of m.spec?.disks ?? []) {
    disk.poolId = "";
    if (disk.path) disk.path = `${vmName}-${disk.id}`;
    if (disk.backingFile) disk.backingFile = cloudImage;
  }
  return toBinary(CreateVMOnNodeRequestSchema, m);
}

async function createRows(ctx: BenchContext, d: HostDaemon, api: DaemonApi, storage: ReturnType<typeof runStorage>): Promise<BenchRow[]> {
  const rounds = ctx.mode === "smoke" ? 1 : ctx.mode === "quick" ? 3 : 5;
  const cloud = join(storage.storagePath, "cloud");
  const isoDir = join(storage.storagePath, "iso");
  Bun.spawnSync(["mkdir", "-p", cloud, isoDir]);
  const cloudImage = join(cloud, "debian-12.qcow2");
  const made = Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", cloudImage, "1G"], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`qemu-img: ${made.stderr.toString()}`);
  Bun.spawnSync(["chmod", "-R", "a+rX", storage.storagePath]);
  // Not bootable: the guest stays in the firmware.
  writeFileSync(join(isoDir, "debian-12.7.0-amd64-netinst.iso"), Buffer.alloc(64 * 1024));
  const grpc = rawGrpcClient(`http://127.0.0.1:${d.port}`);
  const daemonMs: number[] = [];
  const virshMs: number[] = [];
  try {
    for (let round = 0; round < rounds + 1; round++) {
      const vmName = `${storage.pool}-cp-${round}`;
      const vmId = crypto.randomUUID();
      let t = performance.now();
      const created = await grpc.call("CreateVM", cpCreateRequest(cloudImage, vmName, vmId));
      if (created.status !== 0) throw new Error(`CreateVM: ${created.status} ${created.message}`);
      const started = await grpc.call("StartVM", toBinary(VMIdRequestSchema, create(VMIdRequestSchema, { vmId })));
      if (started.status !== 0) throw new Error(`StartVM: ${started.status} ${started.message}`);
      const daemonRound = performance.now() - t;
      // The same definition, disks and all, for virsh: the daemon lets go of the domain only.
      const xmlFile = join(ctx.tmp, `${vmName}.xml`);
      const xml = virsh("dumpxml", "--inactive", vmId);
      writeFileSync(xmlFile, xml);
      // DeleteVM removes the node's own files (the cloud-init ISO) even when it keeps the disks.
      const files = [...xml.matchAll(/<source file='([^']+)'/g)].map((m) => m[1]!).filter((f) => existsSync(f));
      for (const f of files) copyFileSync(f, `${f}.keep`);
      await api.call("ForceStopVM", { vmId });
      await api.call("DeleteVM", { vmId, deleteDisks: false });
      for (const f of files) if (!existsSync(f)) renameSync(`${f}.keep`, f);
      t = performance.now();
      virsh("define", xmlFile);
      virsh("start", vmName);
      const virshRound = performance.now() - t;
      virsh("destroy", vmName);
      virsh("undefine", vmName);
      // The first round warms both sides up and is not counted.
      if (round === 0) continue;
      daemonMs.push(daemonRound);
      virshMs.push(virshRound);
    }
  } finally {
    grpc.close();
  }
  const ratio = median(daemonMs.map((ms, i) => ms / virshMs[i]!));
  return [
    {
      section: SECTION,
      name: "control plane's CreateVM + StartVM / virsh define + start, same XML",
      value: ratio,
      unit: "x",
      budget: { op: "<=", limit: 1.2 },
      note: `median of ${daemonMs.length} per-round ratios, alternating; daemon ${fmt(median(daemonMs))} ms (gRPC, creates 2 disk images and the cloud-init ISO), virsh ${fmt(median(virshMs))} ms (two virsh processes, disks already there); ${PREFIX} domains`,
    },
  ];
}
