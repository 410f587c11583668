// Starts a bench server (bench/servers/*.ts) in its own Bun process and talks to it over a
// line protocol: the child prints `READY <json>` once listening, answers each stdin command
// with one `OK <json>` or `ERR <message>` line. Its CPU time and memory are read from /proc.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface Child<Info> {
  pid: number;
  info: Info;
  /** Sends one command line; resolves with the JSON of its OK answer. */
  command<T = unknown>(line: string): Promise<T>;
  stop(): Promise<void>;
}

export const SERVERS_DIR = join(import.meta.dir, "..", "servers");

/** env: set in the child's environment from its start (what a process reads only at start-up). */
export async function startChild<Info>(script: string, args: string[] = [], readyTimeoutMs = 60_000, env: Record<string, string> = {}): Promise<Child<Info>> {
  const proc = Bun.spawn([process.execPath, join(SERVERS_DIR, script), ...args], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, NODE_ENV: "production", ...env },
  });
  const lines = readLines(proc.stdout);
  const next = async (timeoutMs: number): Promise<string> => {
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${script}: no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      while (true) {
        const r = await Promise.race([lines.next(), timeout]);
        if (r.done) throw new Error(`${script} exited (code ${await proc.exited})`);
        if (/^(READY|OK|ERR) /.test(r.value)) return r.value;
        process.stderr.write(`${script}: ${r.value}\n`);
      }
    } finally {
      clearTimeout(timer);
    }
  };
  let ready: string;
  try {
    ready = await next(readyTimeoutMs);
  } catch (err) {
    proc.kill(9);
    throw err;
  }
  if (!ready.startsWith("READY ")) throw new Error(`${script}: expected READY, got ${ready}`);
  let queue = Promise.resolve();
  return {
    pid: proc.pid,
    info: JSON.parse(ready.slice(6)) as Info,
    command<T>(line: string): Promise<T> {
      const run = queue.then(async () => {
        proc.stdin.write(`${line}\n`);
        await proc.stdin.flush();
        const answer = await next(120_000);
        if (answer.startsWith("OK ")) return JSON.parse(answer.slice(3)) as T;
        throw new Error(`${script} ${line}: ${answer}`);
      });
      queue = run.then(
        () => undefined,
        () => undefined,
      );
      return run;
    },
    async stop() {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill(9), 5000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
    }
  }
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/** User + system CPU time of a whole process (all threads), in ms; NaN when unreadable. */
export function cpuTimeMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory in MiB; NaN when unreadable. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory split into private (anonymous) and file-backed (the executable's pages) MiB. */
export function rssSplitMiB(pid: number): { anon: number; file: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024;
    return { anon: kb("RssAnon"), file: kb("RssFile") };
  } catch {
    return { anon: Number.NaN, file: Number.NaN };
  }
}
