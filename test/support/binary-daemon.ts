// Runs the compiled daemon as a child process on a free port and waits until it answers
// HealthCheck over raw gRPC (bounded: a daemon that does not come up fails the test with its log).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compiledDaemon } from "./binary.ts";
import { rawGrpcClient, type RawGrpcClient } from "./raw-grpc.ts";
import { freePort } from "./free-port.ts";

export interface BinaryDaemon {
  baseUrl: string;
  client: RawGrpcClient;
  stateDir: string;
  log(): string;
  stop(): Promise<number>;
}

const HEALTH_CHECK_EMPTY = new Uint8Array();

/**
 * `launcher` runs the daemon through another command, e.g. nsenter into a namespaced libvirt
 * host (test/support/two-libvirt-hosts.ts): it must exec the daemon, so its pid is the daemon's.
 */
export async function startBinaryDaemon(args: string[], env: Record<string, string> = {}, launcher: string[] = []): Promise<BinaryDaemon> {
  const binary = compiledDaemon();
  const stateDir = mkdtempSync(join(tmpdir(), "lq-bin-"));
  const port = await freePort();
  const child = Bun.spawn([...launcher, binary, ...args, "--listen", `127.0.0.1:${port}`, "--log-level", "info"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LIMIQUANTIX_NODE_STATE_DIR: stateDir, LIMIQUANTIX_SERVER_METRICS_ENABLED: "false", ...env },
    cwd: stateDir,
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) output += new TextDecoder().decode(chunk);
  };
  void collect(child.stdout);
  void collect(child.stderr);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let client: RawGrpcClient;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode} before answering:\n${output}`);
    // A fresh session per try: one that met a refused connection stays dead.
    client = rawGrpcClient(baseUrl);
    const reply = await client.call("HealthCheck", HEALTH_CHECK_EMPTY, { timeoutMs: 2000 }).catch(() => undefined);
    if (reply?.status === 0) break;
    client.close();
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the daemon did not answer HealthCheck within 30 s:\n${output}`);
    }
    await Bun.sleep(50);
  }
  return {
    baseUrl,
    client,
    stateDir,
    log: () => output,
    async stop() {
      client.close();
      child.kill("SIGTERM");
      return child.exited;
    },
  };
}
