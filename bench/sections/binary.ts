// The compiled binary, built once into a temp folder exactly as scripts/build-node-daemon.ts
// compiles it (release flags, worker entrypoints), without regenerating src/gen: its size,
// exec-to-first-answered-HealthCheck (median of repeated starts), idle RSS and RSS after load.

import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { HealthCheckRequestSchema, ListVMsRequestSchema, VMIdRequestSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { rssMiB, rssSplitMiB } from "../lib/child.ts";
import type { BenchContext } from "../lib/context.ts";
import { freePort } from "../../test/support/free-port.ts";
import { writeGrpcBody } from "../lib/grpc-body.ts";
import { GRPC_HEADERS, h2loadAvailable } from "../lib/h2load.ts";
import type { BenchRow } from "../lib/rows.ts";
import { fmt, median } from "../lib/stats.ts";
import { compileCommand } from "../../scripts/compile-command.ts";
import { assertAnswered, UNARY_LOAD } from "./floor.ts";
import { NODE_SERVICE, type Section } from "./section.ts";

const SECTION = "binary";
const ROOT = resolve(import.meta.dir, "..", "..");

function compile(outfile: string): void {
  const r = Bun.spawnSync(compileCommand({ root: ROOT, outfile }), { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`bun build --compile failed: ${r.stderr.toString().slice(-500)}`);
}

interface Started {
  proc: Bun.Subprocess;
  port: number;
  startMs: number;
}

const connectJson = (port: number, method: string, body: unknown) =>
  fetch(`http://127.0.0.1:${port}${NODE_SERVICE}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });

/**
 * Exec, then poll HealthCheck (Connect JSON over HTTP/1.1) until the first answer. By default
 * in dev mode; `mode: "host"` is a host's shape instead: deploy/node.yaml read and registration
 * on (the control plane is unreachable, so it keeps retrying), with the mock backend.
 */
async function start(binary: string, cwd: string, mode: "dev" | "host" = "dev"): Promise<Started> {
  const port = await freePort();
  const shape =
    mode === "dev"
      ? ["--dev"]
      : [
          "--config",
          join(ROOT, "deploy", "node.yaml"),
          "--backend",
          "mock",
          "--storage-path",
          join(cwd, "vms"),
          "--control-plane",
          `http://127.0.0.1:${await freePort()}`,
          "--register",
        ];
  const env = { ...process.env, LIMIQUANTIX_NODE_STATE_DIR: join(cwd, "state") };
  const t0 = performance.now();
  const proc = Bun.spawn([binary, ...shape, "--listen", `127.0.0.1:${port}`, "--metrics-port", String(await freePort()), "--log-level", "error"], {
    cwd,
    env,
    stdout: "ignore",
    stderr: "inherit",
  });
  while (performance.now() - t0 < 10_000) {
    try {
      const res = await connectJson(port, "HealthCheck", {});
      if (res.ok && ((await res.json()) as { healthy?: boolean }).healthy === true) return { proc, port, startMs: performance.now() - t0 };
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`the binary exited with ${proc.exitCode} before answering`);
    await Bun.sleep(1);
  }
  proc.kill(9);
  throw new Error("the binary did not answer HealthCheck within 10 s");
}

/** The binary's RSS after a second with nothing to do, split into private and executable pages. */
async function idleRss(ctx: BenchContext, s: Started, name: string, what: string, budget?: BenchRow["budget"]): Promise<BenchRow> {
  await Bun.sleep(ctx.mode === "smoke" ? 100 : 1_000);
  const split = rssSplitMiB(s.proc.pid);
  const note = `${what}: ${fmt(split.anon)} MiB private, ${fmt(split.file)} MiB pages of the executable`;
  return { section: SECTION, name, value: rssMiB(s.proc.pid), unit: "MiB", ...(budget ? { budget } : {}), note };
}

async function stop(s: Started): Promise<void> {
  s.proc.kill("SIGTERM");
  const code = await Promise.race([s.proc.exited, Bun.sleep(5_000).then(() => "timeout" as const)]);
  if (code === "timeout") s.proc.kill(9);
}

/** The load of the other sections, scaled down: 1,000 VMs, then HealthCheck, GetVMStatus, ListVMs. */
async function applyLoad(ctx: BenchContext, s: Started): Promise<number> {
  const vms = ctx.mode === "smoke" ? 20 : 1_000;
  const ids: string[] = [];
  for (let i = 0; i < vms; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, vms - i) }, async (_, k) => {
        const vmId = crypto.randomUUID();
        const res = await connectJson(s.port, "CreateVM", {
          vmId,
          start: (i + k) % 2 === 0,
          name: `load-${i + k}`,
          spec: { memoryMib: "1024", disks: [{ id: "root", sizeGib: "10", bootable: true }], nics: [{ id: "eth0", network: "default" }] },
        });
        if (!res.ok) throw new Error(`CreateVM answered ${res.status}: ${await res.text()}`);
        ids.push(vmId);
      }),
    );
  }
  const url = (m: string) => `http://127.0.0.1:${s.port}${NODE_SERVICE}/${m}`;
  const health = writeGrpcBody(ctx.tmp, "bin-health", HealthCheckRequestSchema, {});
  const status = writeGrpcBody(ctx.tmp, "bin-status", VMIdRequestSchema, { vmId: ids[0]! });
  const list = writeGrpcBody(ctx.tmp, "bin-list", ListVMsRequestSchema, {});
  assertAnswered("binary HealthCheck", await ctx.load({ url: url("HealthCheck"), bodyFile: health, headers: GRPC_HEADERS, ...UNARY_LOAD }), 10);
  assertAnswered("binary GetVMStatus", await ctx.load({ url: url("GetVMStatus"), bodyFile: status, headers: GRPC_HEADERS, ...UNARY_LOAD }), 100);
  assertAnswered("binary ListVMs", await ctx.load({ url: url("ListVMs"), bodyFile: list, headers: GRPC_HEADERS, clients: 1, streams: 1 }, 5), vms * 100);
  return vms;
}

export const binarySection: Section = {
  name: "binary",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const binary = join(ctx.tmp, "limiquantix-node");
    const t0 = performance.now();
    compile(binary);
    const buildS = (performance.now() - t0) / 1000;
    const rows: BenchRow[] = [
      { section: SECTION, name: "size", value: statSync(binary).size / 2 ** 20, unit: "MiB", note: `release build (minified) in ${fmt(buildS)} s` },
    ];

    const repeats = ctx.mode === "full" ? 10 : ctx.mode === "quick" ? 5 : 2;
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const s = await start(binary, ctx.tmp);
      times.push(s.startMs);
      await stop(s);
    }
    rows.push({
      section: SECTION,
      name: "exec to first answered HealthCheck",
      value: median(times),
      unit: "ms",
      budget: { op: "<=", limit: 150 },
      note: `median of ${repeats} starts (${times.map((t) => fmt(t, 0)).join(", ")} ms); Connect JSON over HTTP/1.1, polled every ms`,
    });

    const s = await start(binary, ctx.tmp);
    try {
      // MiB, as top and systemctl status print memory.
      rows.push(await idleRss(ctx, s, "idle RSS", "1 s after the first answer, no VMs", { op: "<=", limit: 60 }));
      if (h2loadAvailable()) {
        const vms = await applyLoad(ctx, s);
        rows.push({
          section: SECTION,
          name: "RSS after load",
          value: rssMiB(s.proc.pid),
          unit: "MiB",
          note: `${vms} VMs created over the API, then HealthCheck, GetVMStatus and ListVMs under h2load`,
        });
        // The figure above is a high-water mark of answers not yet collected, not what is kept.
        const settleS = ctx.mode === "smoke" ? 0.2 : 15;
        await Bun.sleep(settleS * 1000);
        rows.push({
          section: SECTION,
          name: `RSS ${settleS} s after the load`,
          value: rssMiB(s.proc.pid),
          unit: "MiB",
          note: "the same process, idle again with its VMs",
        });
      }
    } finally {
      await stop(s);
    }

    // What a host runs: the config file parsed and the control plane's client loaded, which
    // dev mode does without. Reported next to the budget, not judged by it.
    const host = await start(binary, ctx.tmp, "host");
    try {
      rows.push(await idleRss(ctx, host, "idle RSS, host shape", "deploy/node.yaml, registration on (control plane unreachable, retrying), mock backend"));
    } finally {
      await stop(host);
    }
    return rows;
  },
};
