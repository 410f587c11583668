// Runs the CLI as an operator does: a separate `bun src/main.ts ...` process, against a daemon
// the test started in-process (test/support/daemon.ts), with its output and exit code.

import { afterAll, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestDaemon, type TestDaemon } from "../../support/daemon.ts";

export const MAIN = join(import.meta.dir, "..", "..", "..", "src", "main.ts");
export const ROOT = join(import.meta.dir, "..", "..", "..");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bun src/main.ts ...args` to the end (bounded by timeoutMs). */
export async function cli(args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 10_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A long-running command (events --follow, metrics --watch, migrate) whose output is read as it comes. */
export function spawnCli(args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let stdout = "";
  let stderr = "";
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const done = Promise.all([pump(proc.stdout, (s) => (stdout += s)), pump(proc.stderr, (s) => (stderr += s))]);
  return {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Waits until stdout (or stderr) matches, or fails after ms. */
    async waitFor(re: RegExp, ms = 8000, which: "stdout" | "stderr" = "stdout"): Promise<string> {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const text = which === "stdout" ? stdout : stderr;
        const m = re.exec(text);
        if (m) return m[0];
        await Bun.sleep(25);
      }
      throw new Error(`no ${re} on ${which} within ${ms} ms; stdout:\n${stdout}\nstderr:\n${stderr}`);
    },
    async exit(): Promise<number> {
      const code = await proc.exited;
      await done;
      return code;
    },
  };
}

/** A port nothing listens on (bound, read, closed). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export const addrOf = (baseUrl: string) => ["--addr", baseUrl.replace(/^http:\/\//, "")];

/**
 * One daemon per test file (mock backend), a scratch folder, and `run`: the CLI pointed at that
 * daemon. Registers its own beforeAll/afterAll.
 */
export function useDaemonForCli(prefix: string) {
  const ctx = {
    d: undefined as unknown as TestDaemon,
    addr: [] as string[],
    dir: mkdtempSync(join(tmpdir(), prefix)),
    run: (...args: string[]) => cli([...args, ...ctx.addr]),
  };
  beforeAll(async () => {
    ctx.d = await startTestDaemon();
    ctx.addr = addrOf(ctx.d.baseUrl);
  });
  afterAll(async () => {
    await ctx.d.stop();
    rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
