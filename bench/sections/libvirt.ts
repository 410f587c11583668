// The libvirt backend on libvirt's built-in test:///default driver (no libvirtd), run by the
// real daemon in its own process: lifecycle cycles per second, and what the daemon adds to
// GetVMStatus over reading the same VM through libvirt directly.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dlopen } from "bun:ffi";
import { GetVMStatusRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { BenchContext, DaemonInfo } from "../lib/context.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { GRPC_HEADERS, type H2loadResult, h2loadAvailable } from "../lib/h2load.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { assertAnswered } from "./floor.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "libvirt";
const URI = "test:///default";

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
    const rows: BenchRow[] = [{
      section: SECTION,
      name: "create/start/stop/delete cycles",
      value: cycles.perSecond,
      unit: "cycles/s",
      note: `${cyclesWanted} cycles through the backend; median ms per step: ${Object.entries(cycles.stepsMs).map(([s, ms]) => `${s} ${fmt(ms)}`).join(", ")}`,
    }];

    const { id } = await daemon.command<{ id: string }>("vm");
    const body = writeGrpcBody(ctx.tmp, "libvirt-status", GetVMStatusRequestSchema, { vmId: id });
    const grpcRuns: H2loadResult[] = [];
    const reads: { bare: Timed; byHand: Timed; backend: Timed }[] = [];
    for (let round = 0; round < ctx.timing.rounds; round++) {
      reads.push(await daemon.command(`reads ${id} ${ctx.mode === "smoke" ? 5 : 300}`));
      const r = await ctx.load({ url: `http://127.0.0.1:${daemon.info.port}${NODE_SERVICE}/GetVMStatus`, bodyFile: body, headers: GRPC_HEADERS, clients: 1, streams: 1 }, 5);
      assertAnswered("GetVMStatus on libvirt", r, 100);
      grpcRuns.push(r);
    }
    const p50 = (pick: (r: (typeof reads)[number]) => Timed) => median(reads.map((r) => pick(r).p50Ms));
    const grpc = median(grpcRuns.map((r) => r.p50Ms));
    rows.push(
      { section: SECTION, name: "GetVMStatus over gRPC, p50", value: grpc, unit: "ms", note: `h2load, one call at a time; p99 ${fmt(median(grpcRuns.map((r) => r.p99Ms)))} ms` },
      { section: SECTION, name: "hypervisor.getVm in the daemon, p50", value: p50((r) => r.backend), unit: "ms", note: "the backend's call Worker hop included" },
      { section: SECTION, name: "same reads by hand over FFI, p50", value: p50((r) => r.byHand), unit: "ms", note: "lookup, state, inactive XML parsed, snapshots, stats, on the main thread" },
      { section: SECTION, name: "bare virDomainGetState, p50", value: p50((r) => r.bare), unit: "ms", note: "lookup by UUID + state" },
      { section: SECTION, name: "daemon adds to GetVMStatus", value: grpc - p50((r) => r.byHand), unit: "ms", note: "gRPC p50 - the same reads by hand (HTTP/2, protobuf, Worker hop)" },
    );
    return rows;
  },
};
