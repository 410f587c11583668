#!/usr/bin/env bun
// Load test: an in-process daemon (mock backend) on loopback, many concurrent gRPC clients over
// a few HTTP/2 connections mixing every unary RPC and MigrateVM, long-lived StreamEvents and
// StreamMetrics subscribers, and streams opened and cancelled all along, for a fixed time.
// Every client owns its VMs and follows valid transitions, so any error not asked for is a
// failure. RSS and heap are sampled each second; growth after warm-up must stay bounded.
// Figures include the clients (same process); the heap is sampled after a full GC.
// `bun bench/load.ts --seconds 20` prints the table and exits 1 on errors or memory growth.

import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { rmSync } from "node:fs";
import { createConsola } from "consola";
import { startDaemon } from "../src/daemon.ts";
import { DiskFormat, NodeDaemonService } from "../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createMockHypervisor } from "../src/hypervisor/mock/index.ts";
import { tempDaemonConfig } from "../test/support/temp-config.ts";

export interface LoadOptions {
  seconds?: number;
  clients?: number;
  connections?: number;
  subscribers?: number;
  /** Heap growth from the end of warm-up to the end allowed, MB. */
  maxHeapGrowthMb?: number;
  maxRssGrowthMb?: number;
  log?: (line: string) => void;
}

/** Shaped like bench/lib/rows.ts BenchRow, so the suite runner can take these rows as they are. */
export interface LoadRow {
  section: "load";
  name: string;
  value: number;
  unit: string;
  budget?: { op: ">=" | "<="; limit: number };
  note?: string;
}

type Api = Client<typeof NodeDaemonService>;
type Family = "lifecycle" | "reads" | "snapshots" | "hot-plug" | "migrate" | "expected errors" | "stream open";

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

export async function runLoad(opts: LoadOptions = {}): Promise<{ rows: LoadRow[]; ok: boolean }> {
  const seconds = opts.seconds ?? 20;
  const nClients = opts.clients ?? 32;
  const nConnections = opts.connections ?? 4;
  const nSubscribers = opts.subscribers ?? 8;
  const maxHeap = opts.maxHeapGrowthMb ?? 8;
  const maxRss = opts.maxRssGrowthMb ?? 64;
  const log = opts.log ?? ((l: string) => console.error(l));

  const { config, dir } = tempDaemonConfig("lq-load-");
  const hypervisor = createMockHypervisor({ bootMs: 5, acpiShutdownMs: 10, migrationStepMs: 5, storagePath: config.hypervisor.storagePath });
  const daemon = await startDaemon(config, createConsola({ level: -999 }), { hypervisor });
  // A daemon that has run a while has a full event ring; fill it first so its growth does not
  // pass for a leak (10,000 events by default).
  for (let i = 0; i < 10_000; i++) daemon.events.publish({ type: "node", message: `warm-up event ${i}` });
  const baseUrl = `http://127.0.0.1:${daemon.api.port}`;
  const apis: Api[] = Array.from({ length: nConnections }, () => createClient(NodeDaemonService, createGrpcTransport({ baseUrl })));

  const latencies = new Map<Family, number[]>();
  const errors: string[] = [];
  const deadline = performance.now() + seconds * 1000;
  const running = () => performance.now() < deadline;

  async function timed<T>(family: Family, what: string, call: () => Promise<T>, expect?: Code): Promise<T | undefined> {
    const t0 = performance.now();
    try {
      const out = await call();
      if (expect !== undefined) errors.push(`${what}: succeeded, expected ${Code[expect]}`);
      return out;
    } catch (err) {
      const code = ConnectError.from(err).code;
      if (code !== expect) errors.push(`${what}: ${Code[code]} ${ConnectError.from(err).rawMessage}`);
      return undefined;
    } finally {
      let list = latencies.get(family);
      if (!list) latencies.set(family, (list = []));
      list.push(performance.now() - t0);
    }
  }

  /** One client: a VM of its own through every operation, again and again. */
  async function client(n: number): Promise<void> {
    const api = apis[n % apis.length]!;
    const o = { timeoutMs: 10_000 };
    for (let round = 0; running(); round++) {
      const vmId = crypto.randomUUID();
      const request = {
        vmId,
        name: `load-${n}-${round}`,
        spec: {
          memoryMib: 512n,
          disks: [{ id: "root", sizeGib: 1n, format: DiskFormat.QCOW2 }],
          nics: [{ id: "eth0", bridge: "br0" }],
        },
        labels: { client: String(n) },
      };
      await timed("lifecycle", "CreateVM", () => api.createVM(request, o));
      await timed("lifecycle", "CreateVM again", () => api.createVM(request, o));
      await timed("lifecycle", "StartVM", () => api.startVM({ vmId }, o));
      await timed("reads", "GetVMStatus", () => api.getVMStatus({ vmId }, o));
      await timed("reads", "ListVMs", () => api.listVMs({ labelSelector: { client: String(n) }, pageSize: 10 }, o));
      await timed("reads", "GetConsole", () => api.getConsole({ vmId }, o));
      await timed("reads", "HealthCheck", () => api.healthCheck({}, o));
      if (round % 8 === 0) await timed("reads", "GetNodeInfo", () => api.getNodeInfo({}, o));
      await timed("snapshots", "CreateSnapshot", () => api.createSnapshot({ vmId, name: "s1" }, o));
      await timed("snapshots", "CreateSnapshot", () => api.createSnapshot({ vmId, name: "s2" }, o));
      await timed("reads", "ListSnapshots", () => api.listSnapshots({ vmId }, o));
      await timed("snapshots", "RevertSnapshot", () => api.revertSnapshot({ vmId, snapshotId: "s1" }, o));
      await timed("snapshots", "DeleteSnapshot", () => api.deleteSnapshot({ vmId, snapshotId: "s2" }, o));
      await timed("hot-plug", "AttachDisk", () => api.attachDisk({ vmId, disk: { id: "data", sizeGib: 1n } }, o));
      await timed("hot-plug", "DetachDisk", () => api.detachDisk({ vmId, diskId: "data" }, o));
      await timed("hot-plug", "AttachNIC", () => api.attachNIC({ vmId, nic: { id: "eth1", network: "default" } }, o));
      await timed("hot-plug", "DetachNIC", () => api.detachNIC({ vmId, nicId: "eth1" }, o));
      await timed("lifecycle", "PauseVM", () => api.pauseVM({ vmId }, o));
      await timed("lifecycle", "ResumeVM", () => api.resumeVM({ vmId }, o));
      await timed("lifecycle", "RebootVM", () => api.rebootVM({ vmId }, o));
      await timed("lifecycle", "StartVM again (idempotent)", () => api.startVM({ vmId }, o));
      await timed("expected errors", "DeleteVM of a running VM", () => api.deleteVM({ vmId }, o), Code.FailedPrecondition);
      await timed("expected errors", "bad vm_id", () => api.getVMStatus({ vmId: "nope" }, o), Code.InvalidArgument);
      await timed("expected errors", "unknown VM", () => api.getVMStatus({ vmId: crypto.randomUUID() }, o), Code.NotFound);
      if (round % 4 === 1) {
        await timed(
          "migrate",
          "MigrateVM unreachable",
          async () => {
            for await (const _ of api.migrateVM({ vmId, targetNodeUri: "qemu+tcp://node9.invalid/system", live: true }, o));
          },
          Code.Unavailable,
        );
      }
      await timed("lifecycle", round % 2 ? "StopVM" : "ForceStopVM", () =>
        round % 2 ? api.stopVM({ vmId, timeoutSeconds: 5 }, o) : api.forceStopVM({ vmId }, o),
      );
      if (round % 4 === 3) {
        await timed("migrate", "MigrateVM offline", async () => {
          for await (const _ of api.migrateVM({ vmId, targetNodeUri: "qemu+tcp://node2.example/system", live: false }, o));
        });
      } else {
        await timed("lifecycle", "DeleteVM", () => api.deleteVM({ vmId, deleteDisks: true }, o));
      }
    }
  }

  /** Long-lived subscribers; events must arrive without a gap in their ids. */
  const subscriptions = new AbortController();
  const eventCounts: number[] = [];
  async function eventSubscriber(n: number): Promise<void> {
    let last = 0n;
    eventCounts[n] = 0;
    try {
      for await (const e of apis[n % apis.length]!.streamEvents({}, { signal: subscriptions.signal })) {
        if (last !== 0n && e.sequence !== last + 1n) errors.push(`StreamEvents ${n}: gap after ${last} (got ${e.sequence})`);
        last = e.sequence;
        eventCounts[n]!++;
      }
    } catch (err) {
      if (!subscriptions.signal.aborted) errors.push(`StreamEvents ${n}: ${ConnectError.from(err).rawMessage}`);
    }
  }
  let samples = 0;
  async function metricsSubscriber(n: number): Promise<void> {
    try {
      for await (const _ of apis[n % apis.length]!.streamMetrics({ intervalMs: 250 }, { signal: subscriptions.signal })) samples++;
    } catch (err) {
      if (!subscriptions.signal.aborted) errors.push(`StreamMetrics ${n}: ${ConnectError.from(err).rawMessage}`);
    }
  }
  /** Streams opened, read once and cancelled, all through the run. */
  async function churn(n: number): Promise<void> {
    const api = apis[n % apis.length]!;
    while (running()) {
      await timed("stream open", "open/cancel", async () => {
        const ac = new AbortController();
        const stream =
          n % 2
            ? api.streamMetrics({ intervalMs: 1000, nodeOnly: true }, { signal: ac.signal })
            : api.streamEvents({ afterSequence: BigInt(Math.max(1, daemon.events.lastId() - 1)) }, { signal: ac.signal });
        for await (const _ of stream) break;
        ac.abort();
      });
      await Bun.sleep(50);
    }
  }

  const memory: { t: number; rss: number; heap: number; calls: number }[] = [];
  const started = performance.now();
  const callsSoFar = () => [...latencies.values()].reduce((n, l) => n + l.length, 0);
  const sampler = setInterval(() => {
    // A full collection first, so the heap figure is what is live, not where the GC happens to be.
    Bun.gc(true);
    const m = process.memoryUsage();
    memory.push({ t: (performance.now() - started) / 1000, rss: m.rss, heap: m.heapUsed, calls: callsSoFar() });
    if (process.env.LOAD_TRACE) log(JSON.stringify(memory.at(-1)));
  }, 1000);

  log(`load: ${nClients} clients over ${nConnections} HTTP/2 connections, ${nSubscribers} stream subscribers, ${seconds} s`);
  const subscribers = Array.from({ length: nSubscribers }, (_, i) => (i % 2 ? metricsSubscriber(i) : eventSubscriber(i)));
  await Promise.all([...Array.from({ length: nClients }, (_, i) => client(i)), churn(0), churn(1)]);
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);
  subscriptions.abort();
  await Promise.all(subscribers);
  // Cancelled streams must be released on the server too: wait (bounded) and then count.
  for (let i = 0; i < 100 && (daemon.stats().eventSubscribers || daemon.stats().metricsSubscribers); i++) await Bun.sleep(20);
  const stats = daemon.stats();
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });

  // Growth after warm-up: the first quarter (at least 3 s) is warm-up; compare the mean of the
  // first two samples after it with the mean of the last two.
  const warm = memory.filter((s) => s.t >= Math.max(3, seconds / 4));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const growth = (k: "rss" | "heap") =>
    warm.length >= 4 ? (mean(warm.slice(-2).map((s) => s[k])) - mean(warm.slice(0, 2).map((s) => s[k]))) / 1e6 : Number.NaN;
  const heapGrowth = growth("heap");
  const rssGrowth = growth("rss");
  const peakRss = Math.max(...memory.map((s) => s.rss)) / 1e6;

  const rows: LoadRow[] = [];
  let total = 0;
  for (const [family, list] of [...latencies.entries()].sort()) {
    const sorted = [...list].sort((a, b) => a - b);
    total += list.length;
    rows.push({
      section: "load",
      name: `${family}: requests per second`,
      value: list.length / elapsed,
      unit: "req/s",
      note: `p50 ${quantile(sorted, 0.5).toFixed(2)} ms, p99 ${quantile(sorted, 0.99).toFixed(2)} ms, ${list.length} calls`,
    });
  }
  rows.push({
    section: "load",
    name: "all calls: requests per second",
    value: total / elapsed,
    unit: "req/s",
    note: `${total} calls in ${elapsed.toFixed(1)} s`,
  });
  rows.push({
    section: "load",
    name: "unexpected errors",
    value: errors.length,
    unit: "",
    budget: { op: "<=", limit: 0 },
    note: errors.slice(0, 3).join("; ") || undefined,
  });
  rows.push({ section: "load", name: "heap growth after warm-up", value: heapGrowth, unit: "MB", budget: { op: "<=", limit: maxHeap } });
  rows.push({ section: "load", name: "RSS growth after warm-up", value: rssGrowth, unit: "MB", budget: { op: "<=", limit: maxRss } });
  rows.push({ section: "load", name: "peak RSS (daemon and clients)", value: peakRss, unit: "MB" });
  rows.push({
    section: "load",
    name: "events delivered per StreamEvents subscriber",
    value: Math.min(...eventCounts.filter((c) => c !== undefined)),
    unit: "events",
    note: `without a gap; ${samples} metrics samples delivered`,
  });
  rows.push({
    section: "load",
    name: "subscriptions left open after the clients left",
    value: stats.eventSubscribers + stats.metricsSubscribers,
    unit: "",
    budget: { op: "<=", limit: 0 },
  });
  // A run too short to have samples after warm-up cannot judge growth (NaN rows, not failures).
  const within = (v: number, max: number) => Number.isNaN(v) || v <= max;
  const ok = errors.length === 0 && within(heapGrowth, maxHeap) && within(rssGrowth, maxRss) && stats.eventSubscribers + stats.metricsSubscribers === 0;
  return { rows, ok };
}

function printTable(rows: LoadRow[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const value = Number.isFinite(r.value) ? (Math.abs(r.value) >= 100 ? r.value.toFixed(0) : r.value.toFixed(1)) : "n/a";
    const budget = r.budget ? ` (budget ${r.budget.op} ${r.budget.limit})` : "";
    console.log(`${r.name.padEnd(width)}  ${`${value} ${r.unit}`.padStart(14)}${budget}${r.note ? `  ${r.note}` : ""}`);
  }
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const { rows, ok } = await runLoad({ seconds: arg("seconds"), clients: arg("clients"), connections: arg("connections"), subscribers: arg("subscribers") });
  printTable(rows);
  console.log(ok ? "load: ok" : "load: FAILED (errors or memory growth beyond the budget)");
  process.exit(ok ? 0 : 1);
}
