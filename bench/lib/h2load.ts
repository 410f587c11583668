// Runs nghttp2's h2load, an external C load generator, so the server under test never shares
// an event loop (or a JS runtime) with the client. Latency percentiles come from h2load's
// per-request log; its own CPU use is read back so a saturated generator is visible.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuTimeMs } from "./child.ts";
import { quantile } from "./stats.ts";

export const GRPC_HEADERS = ["content-type: application/grpc", "te: trailers"];

export interface H2loadOptions {
  url: string;
  /** Request body (-d); a framed gRPC message for gRPC. */
  bodyFile?: string;
  headers?: string[];
  clients: number;
  /** Concurrent streams per connection (-m); 1 for HTTP/1.1. */
  streams: number;
  threads?: number;
  /** Timed run (-D) after warmUpS of unmeasured load ... */
  durationS?: number;
  warmUpS?: number;
  /** ... or a fixed number of requests (-n). */
  requests?: number;
  /** Force HTTP/1.1 (h2load --h1). */
  h1?: boolean;
  /** Server process whose CPU time per call is measured (timed runs, after the warm-up). */
  serverPid?: number;
}

export interface H2loadResult {
  reqPerSec: number;
  succeeded: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  /** Response DATA bytes per successful request (gRPC errors come back with none). */
  dataBytesPerRequest: number;
  /** h2load's CPU time over wall time: near 100% x threads means the generator is the limit. */
  generatorCpuPercent: number;
  wallS: number;
  /** CPU time the server spent per answered call, in µs: steadier than req/s on a busy machine. */
  serverCpuUsPerCall: number;
}

export function h2loadAvailable(): boolean {
  return Bun.which("h2load") !== null;
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

/** Pure parser of h2load's summary (nghttp2 1.52 wording). */
export function parseH2loadSummary(text: string): Pick<H2loadResult, "reqPerSec" | "succeeded" | "failed" | "dataBytesPerRequest"> {
  const finished = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(text);
  const requests = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(text);
  const data = /traffic: .*?, ([\d.]+)(B|KB|MB|GB) \(\d+\) data/.exec(text);
  const exact = /traffic: .*?, [\d.]+(?:B|KB|MB|GB) \((\d+)\) data/.exec(text);
  if (!finished || !requests) throw new Error(`cannot read h2load's summary:\n${text.slice(-600)}`);
  const succeeded = Number(requests[1]);
  const dataBytes = exact ? Number(exact[1]) : data ? Number(data[1]) * UNITS[data[2]!]! : Number.NaN;
  return {
    reqPerSec: Number(finished[1]),
    succeeded,
    failed: Number(requests[2]) + Number(requests[3]) + Number(requests[4]),
    dataBytesPerRequest: succeeded ? dataBytes / succeeded : Number.NaN,
  };
}

/** Pure parser of h2load --log-file: start µs, status, duration µs per line. */
export function parseLatencies(log: string): number[] {
  const out: number[] = [];
  for (const line of log.split("\n")) {
    const cols = line.split("\t");
    if (cols.length >= 3 && cols[1]!.startsWith("2")) out.push(Number(cols[2]) / 1000);
  }
  return out;
}

export async function runH2load(o: H2loadOptions): Promise<H2loadResult> {
  const dir = mkdtempSync(join(tmpdir(), "lq-h2load-"));
  const logFile = join(dir, "requests.tsv");
  const args = ["h2load", "-c", String(o.clients), "-m", String(o.streams), "-t", String(o.threads ?? 1), "--log-file", logFile];
  if (o.durationS !== undefined) args.push("-D", `${Math.round(o.durationS * 1000)}ms`, "--warm-up-time", `${Math.round((o.warmUpS ?? 1) * 1000)}ms`);
  else args.push("-n", String(o.requests ?? 1000));
  if (o.h1) args.push("--h1");
  if (o.bodyFile) args.push("-d", o.bodyFile);
  for (const h of o.headers ?? []) args.push("-H", h);
  args.push(o.url);
  try {
    const started = performance.now();
    const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
    let cpuAtStart = Number.NaN;
    const pid = o.serverPid;
    const timer = pid === undefined ? undefined : setTimeout(() => (cpuAtStart = cpuTimeMs(pid)), o.durationS !== undefined ? (o.warmUpS ?? 1) * 1000 : 0);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    const cpuMs = pid === undefined ? Number.NaN : cpuTimeMs(pid) - cpuAtStart;
    clearTimeout(timer);
    const wallS = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`h2load exited ${code}: ${stderr || stdout.slice(-400)}`);
    const summary = parseH2loadSummary(stdout);
    const latencies = parseLatencies(readFileSync(logFile, "utf8"));
    const cpuS = Number(proc.resourceUsage()?.cpuTime.total ?? Number.NaN) / 1e6;
    return {
      ...summary,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      generatorCpuPercent: (100 * cpuS) / wallS,
      wallS,
      serverCpuUsPerCall: (cpuMs * 1000) / summary.succeeded,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
