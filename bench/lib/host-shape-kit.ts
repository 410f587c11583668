// What bench/sections/host-shape.ts needs around a daemon on the system libvirt: the run's own
// storage and pool name, virsh, tiny diskless guests created through the daemon's API, their
// cleanup by name prefix, and the daemon's CPU time per thread (what woke it, and how often).

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { realTierStorage, URI, virsh, virshQuietly } from "../../test/hypervisor/libvirt/real/helpers.ts";
import { cpuTimeMs } from "./child.ts";

export { URI, virsh };

/** Every libvirt object of this section has this prefix (parallel runs never share one; LQ_BENCH_PREFIX gives another). */
export const PREFIX = process.env.LQ_BENCH_PREFIX ?? "lq14d-";

/** What scripts/setup-libvirt.sh found (/run/limiquantix-libvirt.env); the process env wins. */
export function setupValue(name: string): string | undefined {
  if (process.env[name] !== undefined) return process.env[name];
  try {
    for (const line of readFileSync("/run/limiquantix-libvirt.env", "utf8").split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0 && line.slice(0, eq) === name) return line.slice(eq + 1).trim();
    }
  } catch {}
  return undefined;
}

/**
 * The environment deploy/limiquantix-node.service gives the daemon (its Environment= lines): a
 * daemon measured "in a host's shape" runs with what systemd would start it with.
 */
export function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(import.meta.dir, "..", "..", "deploy", "limiquantix-node.service"), "utf8");
  const env: Record<string, string> = {};
  for (const line of unit.split("\n")) {
    const m = /^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) env[m[1]] = m[2];
  }
  return env;
}

export interface RunStorage {
  root: string;
  storagePath: string;
  pool: string;
  /** Every domain of the run (by prefix), the pool, the folder. */
  remove(): void;
}

/** The real tier's storage of a run's own (a 0755 temp folder, a pool name of its own), and its domains removed with it. */
export function runStorage(): RunStorage {
  const storage = realTierStorage(PREFIX);
  return {
    root: storage.root,
    storagePath: storage.storagePath,
    pool: storage.poolName,
    remove() {
      removeDomains(storage.poolName);
      storage.remove();
    },
  };
}

/**
 * bench/servers/host-daemon.ts's arguments: the run's storage and pool, registration with the
 * control plane at controlPlaneUrl, the API and Prometheus ports, and what setup-libvirt.sh found.
 */
export function hostDaemonArgs(storage: RunStorage, controlPlaneUrl: string, port: number, metricsPort: number): string[] {
  return [
    ...["--pool", storage.pool, "--state-dir", storage.root, "--storage-path", storage.storagePath, "--control-plane", controlPlaneUrl],
    ...["--listen", `127.0.0.1:${port}`, "--metrics-port", String(metricsPort)],
    ...["--default-network", setupValue("LIMIQUANTIX_REAL_NETWORK") ?? "lqtest"],
    ...["--cpu-disabled-features", setupValue("LIMIQUANTIX_REAL_CPU_DISABLED_FEATURES") ?? ""],
  ];
}

/** Destroys and undefines every domain whose name starts with prefix. */
export function removeDomains(prefix: string): void {
  let names: string[] = [];
  try {
    names = virsh("list", "--all", "--name")
      .split("\n")
      .filter((n) => n.startsWith(prefix));
  } catch {}
  for (const name of names) virshQuietly(["destroy", name], ["undefine", name, "--nvram", "--snapshots-metadata"]);
}

/**
 * Which libvirtd serves qemu:///system right now (pid and start time), or undefined when none:
 * other test runs on this machine stop and restart it, and a window that saw a restart measured
 * the daemon reconnecting, not the daemon.
 */
export function libvirtdIdentity(): string | undefined {
  try {
    const pid = readFileSync("/run/libvirtd.pid", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return `${pid}@${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}`;
  } catch {
    return undefined;
  }
}

/** Waits (bounded) until virsh reaches libvirtd again. */
export async function libvirtBack(timeoutMs = 120_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    try {
      virsh("uri");
      return;
    } catch (err) {
      if (performance.now() > until) throw err;
      await Bun.sleep(1000);
    }
  }
}

export interface DaemonApi {
  call<T = unknown>(method: string, body: unknown): Promise<T>;
}

/** The daemon's Connect JSON API over HTTP/1.1 (what curl speaks). */
export function connectJson(port: number): DaemonApi {
  return {
    async call<T>(method: string, body: unknown): Promise<T> {
      const res = await fetch(`http://127.0.0.1:${port}/limiquantix.node.v1.NodeDaemonService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(120_000),
      });
      if (!res.ok) throw new Error(`${method}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
  };
}

/** A UUID (version 4 layout) derived from a name. */
export function idOf(name: string): string {
  const h = new Bun.CryptoHasher("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A diskless guest of 64 MiB (the smallest the API takes) and one vCPU: no OS, it idles in the firmware. */
export async function createTinyVms(api: DaemonApi, names: string[], start: boolean): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    // The same id for the same name: CreateVM is idempotent, so a repeated part creates nothing twice.
    const vmId = idOf(name);
    await api.call("CreateVM", { vmId, name, start, spec: { cpuCores: 1, memoryMib: "64", console: { vncEnabled: false } } });
    ids.push(vmId);
  }
  return ids;
}

export interface ThreadCpu {
  /** tid:name -> CPU ms, of it in the kernel (10 ms ticks), and context switches (wakeups) so far. */
  [thread: string]: { cpuMs: number; kernelMs: number; switches: number };
}

const TICKS_PER_S = 100;

/** A task's time on a CPU from the scheduler's nanosecond accounting (schedstat), when the kernel has it. */
function schedCpuMs(taskDir: string): number | undefined {
  try {
    const ns = Number(readFileSync(`${taskDir}/schedstat`, "utf8").split(" ")[0]);
    return Number.isFinite(ns) ? ns / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Every thread's CPU time (ns accounting where the kernel has it, else 10 ms ticks) and context switches (voluntary + involuntary), from /proc. */
export function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const base = `/proc/${pid}/task/${tid}`;
      const stat = readFileSync(`${base}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const status = readFileSync(`${base}/status`, "utf8");
      const switches =
        Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      out[`${tid}:${readFileSync(`${base}/comm`, "utf8").trim()}`] = {
        cpuMs: schedCpuMs(base) ?? ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S,
        kernelMs: (Number(f[12]) * 1000) / TICKS_PER_S,
        switches,
      };
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** A reading of a process's CPU time: per thread (ns accounting) and in all (/proc/<pid>/stat). */
export interface CpuReading {
  threads: ThreadCpu;
  /** utime + stime of every thread the process ever had, in 10 ms ticks. */
  statMs: number;
}

export function cpuReading(pid: number): CpuReading {
  return { threads: threadCpu(pid), statMs: cpuTimeMs(pid) };
}

/**
 * The CPU the process used between two readings: the per-thread ns figures when every thread of
 * the first reading is still there, else (JavaScriptCore's JIT and GC helper threads end after a
 * few idle seconds, taking their time with them) the /proc/<pid>/stat figure, 10 ms ticks.
 */
export function cpuBetween(a: CpuReading, b: CpuReading): { ms: number; exact: boolean } {
  const exact = Object.keys(a.threads).every((k) => b.threads[k] !== undefined);
  if (!exact) return { ms: b.statMs - a.statMs, exact };
  let ms = 0;
  for (const [k, v] of Object.entries(b.threads)) ms += v.cpuMs - (a.threads[k]?.cpuMs ?? 0);
  return { ms, exact };
}

/** CPU ms (and of it in the kernel) and wakeups per thread name between two readings, busiest first. */
export function threadDelta(a: ThreadCpu, b: ThreadCpu): { name: string; cpuMs: number; kernelMs: number; switches: number }[] {
  const byName = new Map<string, { cpuMs: number; kernelMs: number; switches: number }>();
  for (const [key, v] of Object.entries(b)) {
    const before = a[key] ?? { cpuMs: 0, kernelMs: 0, switches: 0 };
    const name = key.slice(key.indexOf(":") + 1);
    const acc = byName.get(name) ?? { cpuMs: 0, kernelMs: 0, switches: 0 };
    acc.cpuMs += v.cpuMs - before.cpuMs;
    acc.kernelMs += v.kernelMs - before.kernelMs;
    acc.switches += v.switches - before.switches;
    byName.set(name, acc);
  }
  return [...byName.entries()].map(([name, v]) => ({ name, ...v })).sort((x, y) => y.cpuMs - x.cpuMs || y.switches - x.switches);
}

/**
 * How long a metrics subscriber runs before a per-tick figure is taken: code run once a second
 * climbs JavaScriptCore's tiers over minutes (each tier needs so many runs), compiling as it
 * goes, a cost paid once in a daemon's life where a tick's is paid every second for months. With
 * one subscriber kept open on a daemon with 20 VMs, the compiler used 0.1 ms/s or less after ~14
 * minutes in one run (BUN_JSC_reportCompileTimes=1) and still 0.8 ms/s after 10 in another: the
 * rows say how much of the windows it took. A fixed time, not a wait for quiet: the compiler
 * threads end after idle seconds, taking their figures with them.
 */
export const TICK_WARM_UP_MS = 10 * 60_000;

/** The compiler threads' (JITWorker) CPU ms between two readings, when none of them ended in between. */
export function jitCpuMs(a: ThreadCpu, b: ThreadCpu): number | undefined {
  const isJit = (key: string) => key.endsWith(":JITWorker");
  if (Object.keys(a).some((k) => isJit(k) && b[k] === undefined)) return undefined;
  let ms = 0;
  for (const [k, v] of Object.entries(b)) if (isJit(k)) ms += v.cpuMs - (a[k]?.cpuMs ?? 0);
  return ms;
}
