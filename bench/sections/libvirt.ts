// The libvirt backend on libvirt's built-in test:///default driver (no libvirtd), run by the
// real daemon in its own process: lifecycle cycles per second, what the daemon adds to
// GetVMStatus over reading the same VM through libvirt directly, and ListVMs with 100, 1,000
// and 10,000 defined domains next to mock daemons holding as many VMs (those of the scale
// section where the sizes meet), with the steps of a listing timed apart (libvirt's reads, the
// XML parsed, protobuf). 100 is below the backend's parse cache (128 documents), 1,000 above.
// The test driver keeps its domains in the daemon process while a connection is open: each
// size gets a daemon of its own, which defines the domains through the backend at start.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dlopen } from "bun:ffi";
import { ListVMsRequestSchema, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { type Child, rssMiB } from "../lib/child.ts";
import type { BenchContext, DaemonInfo, Mode } from "../lib/context.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { GRPC_HEADERS, type H2loadOptions, type H2loadResult, h2loadAvailable, runH2load } from "../lib/h2load.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { assertAnswered } from "./floor.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "libvirt";
const URI = "test:///default";
/** Defined domains per ListVMs daemon. */
const LIST_SIZES: Record<Mode, number[]> = { full: [100, 1_000, 10_000], quick: [100, 1_000], smoke: [20] };
/** ListVMs calls per size and round, one at a time: a listing of 10,000 domains takes seconds. */
const listCalls = (mode: Mode, n: number) => (mode === "smoke" ? 2 : n >= 10_000 ? 1 : n >= 1_000 ? 4 : 20);
/** The size whose listing is timed step by step. */
const STEPS_AT: Record<Mode, number> = { full: 1_000, quick: 1_000, smoke: 20 };

interface Timed {
  p50Ms: number;
  p99Ms: number;
}

/** Why this machine cannot run the section, or undefined when it can. */
function unavailable(): string | undefined {
  const index = join(import.meta.dir, "..", "..", "src", "hypervisor", "libvirt", "index.ts");
  if (!existsSync(index) || !/export\s*\{[^}]*createLibvirtHypervisor/.test(readFileSync(index, "utf8"))) {
    return "src/hypervisor/libvirt/index.ts does not export createLibvirtHypervisor";
  }
  try {
    dlopen("libvirt.so.0", { virGetVersion: { args: ["ptr", "ptr", "ptr"], returns: "i32" } }).close();
  } catch (err) {
    return `libvirt.so.0 does not load (${(err as Error).message}); apt-get install libvirt0`;
  }
  if (!h2loadAvailable()) return "h2load not installed (apt-get install nghttp2-client)";
  return undefined;
}

export const libvirtSection: Section = {
  name: "libvirt",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const why = unavailable();
    if (why) return [skippedRow(SECTION, `${URI} cycles and GetVMStatus`, why)];
    const daemon = await ctx.server<DaemonInfo>("daemon on libvirt test:///default", "daemon.ts", ["--backend", "libvirt", "--libvirt-uri", URI]);
    const cyclesWanted = ctx.mode === "smoke" ? 2 : ctx.mode === "quick" ? 20 : 50;
    const cycles = await daemon.command<{ perSecond: number; stepsMs: Record<string, number> }>(`cycles ${cyclesWanted}`);
    const rows: BenchRow[] = [
      {
        section: SECTION,
        name: "create/start/stop/delete cycles",
        value: cycles.perSecond,
        unit: "cycles/s",
        note: `${cyclesWanted} cycles through the backend; median ms per step: ${Object.entries(cycles.stepsMs)
          .map(([s, ms]) => `${s} ${fmt(ms)}`)
          .join(", ")}`,
      },
    ];

    const { id } = await daemon.command<{ id: string }>("vm");
    const body = writeGrpcBody(ctx.tmp, "libvirt-status", VMIdRequestSchema, { vmId: id });
    const grpcRuns: H2loadResult[] = [];
    const reads: { bare: Timed; byHand: Timed; backend: Timed }[] = [];
    for (let round = 0; round < ctx.timing.rounds; round++) {
      reads.push(await daemon.command(`reads ${id} ${ctx.mode === "smoke" ? 5 : 300}`));
      const r = await ctx.load(
        { url: `http://127.0.0.1:${daemon.info.port}${NODE_SERVICE}/GetVMStatus`, bodyFile: body, headers: GRPC_HEADERS, clients: 1, streams: 1 },
        5,
      );
      assertAnswered("GetVMStatus on libvirt", r, 100);
      grpcRuns.push(r);
    }
    const p50 = (pick: (r: (typeof reads)[number]) => Timed) => median(reads.map((r) => pick(r).p50Ms));
    const grpc = median(grpcRuns.map((r) => r.p50Ms));
    rows.push(
      {
        section: SECTION,
        name: "GetVMStatus over gRPC, p50",
        value: grpc,
        unit: "ms",
        note: `h2load, one call at a time; p99 ${fmt(median(grpcRuns.map((r) => r.p99Ms)))} ms`,
      },
      {
        section: SECTION,
        name: "hypervisor.getVm in the daemon, p50",
        value: p50((r) => r.backend),
        unit: "ms",
        note: "the backend's call Worker hop included",
      },
      {
        section: SECTION,
        name: "same reads by hand over FFI, p50",
        value: p50((r) => r.byHand),
        unit: "ms",
        note: "lookup, state, inactive XML parsed, snapshots, stats, on the main thread",
      },
      { section: SECTION, name: "bare virDomainGetState, p50", value: p50((r) => r.bare), unit: "ms", note: "lookup by UUID + state" },
      {
        section: SECTION,
        name: "daemon adds to GetVMStatus",
        value: grpc - p50((r) => r.byHand),
        unit: "ms",
        note: "gRPC p50 - the same reads by hand (HTTP/2, protobuf, Worker hop)",
      },
    );
    rows.push(...(await listRows(ctx)));
    return rows;
  },
};

interface ListingSteps {
  backendMs: number;
  toMessagesMs: number;
  encodeMs: number;
  vms: number;
}

interface ListingByHand {
  readsMs: number;
  parseMs: number;
  domains: number;
  xmlBytes: number;
}

/** ListVMs at scale: test-driver daemons and mock daemons of the same sizes, interleaved. */
async function listRows(ctx: BenchContext): Promise<BenchRow[]> {
  const sizes = LIST_SIZES[ctx.mode];
  const libvirt: Child<DaemonInfo>[] = [];
  // One after the other: defining 10,000 domains keeps both cores busy for most of a minute.
  for (const n of sizes) {
    libvirt.push(
      await ctx.server<DaemonInfo>(
        `daemon on libvirt ${URI} with ${n} VMs`,
        "daemon.ts",
        ["--backend", "libvirt", "--libvirt-uri", URI, "--vms", String(n)],
        600_000,
      ),
    );
  }
  const mock = await Promise.all(sizes.map((n) => ctx.daemon(n)));
  const body = writeGrpcBody(ctx.tmp, "libvirt-list-all", ListVMsRequestSchema, {});
  const target = (d: DaemonInfo): Omit<H2loadOptions, "durationS" | "warmUpS" | "requests"> => ({
    url: `http://127.0.0.1:${d.port}${NODE_SERVICE}/ListVMs`,
    bodyFile: body,
    headers: GRPC_HEADERS,
    clients: 1,
    streams: 1,
    serverPid: d.pid,
  });
  // A fixed number of calls: a timed h2load run cannot hold a call that outlasts it.
  const calls = (d: DaemonInfo, n: number) => runH2load({ ...target(d), requests: listCalls(ctx.mode, n) });
  for (const d of libvirt) await runH2load({ ...target(d.info), requests: 1 });
  await ctx.warm(mock.map((d) => target(d.info)));

  const lists = sizes.map(() => [] as H2loadResult[]);
  const mockLists = sizes.map(() => [] as H2loadResult[]);
  const steps: ListingSteps[] = [];
  const mockSteps: ListingSteps[] = [];
  const byHand: ListingByHand[] = [];
  const stepsAt = sizes.indexOf(STEPS_AT[ctx.mode]);
  for (let round = 0; round < ctx.timing.rounds; round++) {
    for (const [i, n] of sizes.entries()) {
      const r = await calls(libvirt[i]!.info, n);
      assertAnswered(`ListVMs with ${n} test-driver domains`, r, n * 100);
      lists[i]!.push(r);
      const m = await ctx.load(target(mock[i]!.info), 3);
      assertAnswered(`ListVMs with ${n} mock VMs`, m, n * 100);
      mockLists[i]!.push(m);
    }
    steps.push(await libvirt[stepsAt]!.command<ListingSteps>("listing 2"));
    byHand.push(await libvirt[stepsAt]!.command<ListingByHand>("listing-by-hand 2"));
    mockSteps.push(await mock[stepsAt]!.command<ListingSteps>("listing 2"));
  }

  const p50 = (runs: H2loadResult[]) => median(runs.map((r) => r.p50Ms));
  const rows: BenchRow[] = [];
  for (const [i, n] of sizes.entries()) {
    const runs = lists[i]!;
    const d = libvirt[i]!;
    rows.push({
      section: SECTION,
      name: `ListVMs over gRPC, ${n.toLocaleString("en-US")} domains, p50`,
      value: p50(runs),
      unit: "ms",
      note:
        `${fmt((1000 * p50(runs)) / n)} µs per domain; p99 ${fmt(median(runs.map((r) => r.p99Ms)))} ms; ${fmt(median(runs.map((r) => r.dataBytesPerRequest)) / 1024)} KiB per answer; ` +
        `${fmt(median(runs.map((r) => r.serverCpuUsPerCall)) / 1000)} ms server CPU per call; ${runs.length * listCalls(ctx.mode, n)} calls, one at a time; ` +
        `${fmt(d.info.createS)} s to define them (+ the driver's own "test" domain); daemon RSS ${fmt(rssMiB(d.pid))} MiB`,
    });
  }
  for (let i = 1; i < sizes.length; i++) {
    const [a, b] = [sizes[i - 1]!, sizes[i]!];
    rows.push({
      section: SECTION,
      name: `ListVMs p50, ${b.toLocaleString("en-US")} / ${a.toLocaleString("en-US")} domains`,
      value: p50(lists[i]!) / p50(lists[i - 1]!),
      unit: "x",
      note: `${fmt(b / a, 0)}x the domains; the mock's budget for 10,000 / 1,000 VMs is 12x (scale)`,
    });
  }
  for (const [i, n] of sizes.entries()) {
    rows.push({
      section: SECTION,
      name: `ListVMs p50, test driver / mock, ${n.toLocaleString("en-US")} VMs`,
      value: median(lists[i]!.map((r, k) => r.p50Ms / mockLists[i]![k]!.p50Ms)),
      unit: "x",
      note: `median of per-round ratios; the mock daemon's p50 ${fmt(p50(mockLists[i]!))} ms, interleaved`,
    });
  }
  const at = STEPS_AT[ctx.mode].toLocaleString("en-US");
  const m = (pick: (s: ListingSteps) => number, of: ListingSteps[]) => median(of.map(pick));
  const h = (pick: (s: ListingByHand) => number) => median(byHand.map(pick));
  const wireMs = m((s) => s.toMessagesMs + s.encodeMs, steps);
  rows.push(
    {
      section: SECTION,
      name: `ListVMs steps, ${at} domains: hypervisor.listVms`,
      value: m((s) => s.backendMs, steps),
      unit: "ms",
      note: `in the daemon, Worker hop included; the mock's: ${fmt(m((s) => s.backendMs, mockSteps))} ms`,
    },
    {
      section: SECTION,
      name: `ListVMs steps, ${at} domains: libvirt reads by hand`,
      value: h((s) => s.readsMs),
      unit: "ms",
      note: `list, then state, inactive XML (${fmt(h((s) => s.xmlBytes) / 1024)} KiB each), snapshots per domain, and bulk stats, over FFI on the main thread`,
    },
    {
      section: SECTION,
      name: `ListVMs steps, ${at} domains: every domain XML parsed`,
      value: h((s) => s.parseMs),
      unit: "ms",
      note: `parseDomainXml on the main thread, as listVms calls it (its cache holds 128 documents): ${fmt((1000 * h((s) => s.parseMs)) / h((s) => s.domains))} µs per domain`,
    },
    {
      section: SECTION,
      name: `ListVMs steps, ${at} domains: statuses to protobuf and encoded`,
      value: wireMs,
      unit: "ms",
      note:
        `${fmt(m((s) => s.toMessagesMs, steps))} ms to messages, ${fmt(m((s) => s.encodeMs, steps))} ms encoding; ` +
        `${fmt((100 * wireMs) / (wireMs + m((s) => s.backendMs, steps)))}% of the listing's work: all a wire-side fast path could save; the mock's: ${fmt(m((s) => s.toMessagesMs + s.encodeMs, mockSteps))} ms`,
    },
  );
  return rows;
}
