// The daemon as an operator runs it: a separate process started from the CLI, answering, and
// shutting down cleanly on SIGTERM (streams ended, calls in flight answered, exit 0).

import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NodeDaemonService, type NodeEvent, PowerState, VMTransition } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { freePort } from "../support/free-port.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");

function run(args: string[], env: Record<string, string> = {}) {
  return Bun.spawn([process.execPath, MAIN, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...env },
  });
}

async function output(args: string[], env: Record<string, string> = {}) {
  const proc = run(args, env);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

async function waitHealthy(url: string, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/limiquantix.node.v1.NodeDaemonService/HealthCheck`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await Bun.sleep(50);
  }
  throw new Error(`daemon at ${url} did not answer within ${ms} ms`);
}

describe("the daemon process", () => {
  test("starts with --dev, ends streams and finishes calls in flight on SIGTERM, exits 0", async () => {
    const port = await freePort();
    const state = mkdtempSync(join(tmpdir(), "lq-proc-"));
    const proc = run(["--dev", "--listen", `127.0.0.1:${port}`, "--metrics-port", String(await freePort()), "--storage-path", join(state, "vms")]);
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      await waitHealthy(baseUrl);
      const client = createClient(NodeDaemonService, createGrpcTransport({ baseUrl }));
      const id = crypto.randomUUID();
      await client.createVM({ vmId: id, name: "drain-me", start: true, spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n } });

      // From the oldest event: the stream is open once the first (buffered) event arrives.
      const seen: NodeEvent[] = [];
      let arrived: (() => void) | undefined;
      const next = (check: (e: NodeEvent) => boolean) =>
        new Promise<void>((resolve) => {
          arrived = () => seen.some(check) && resolve();
          arrived();
        });
      const streamEnded = (async () => {
        for await (const e of client.streamEvents({ fromOldest: true })) {
          seen.push(e);
          arrived?.();
        }
        return "ended";
      })();
      await next(() => true);
      // A graceful stop takes the mock guest a while: it must still be answered. SIGTERM goes
      // once the daemon reports the guest shutting down, i.e. with the call in flight.
      const inFlight = client.stopVM({ vmId: id, timeoutSeconds: 30 });
      await next((e) => e.vmId === id && e.transition === VMTransition.VM_TRANSITION_SHUTTING_DOWN);
      proc.kill("SIGTERM");

      expect((await inFlight).vm!.state).toBe(PowerState.STOPPED);
      expect(await streamEnded).toBe("ended");
      expect(await proc.exited).toBe(0);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 30_000);

  test("--version and --help", async () => {
    const v = await output(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^limiquantix-node \d+\.\d+\.\d+ \(bun /);
    const h = await output(["--help"]);
    expect(h.code).toBe(0);
    for (const flag of ["--dev", "--config", "--listen", "--control-plane", "--register", "--node-id", "--log-level"]) {
      expect(h.stdout).toContain(flag);
    }
    expect(h.stdout).not.toContain("\u001b["); // no colour codes in a pipe
  });

  test("bad usage exits 2 with a message naming the problem", async () => {
    const unknown = await output(["--listne", "1.2.3.4:1"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown flag --listne");
    const badValue = await output(["config", "check", "--dev", "--log-level", "loud"]);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain("loud");
    expect(badValue.stderr).toContain("debug");
  });

  test("config check prints the effective config with file < env < flag precedence", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lq-cfg-"));
    const file = join(dir, "node.yaml");
    writeFileSync(file, "server:\n  listen_address: 0.0.0.0:7000\n  metrics_port: 7001\nlog:\n  level: warn\nmystery_key: 1\n");
    const r = await output(["config", "check", "--config", file, "--log-level", "debug"], { LIMIQUANTIX_SERVER_METRICS_PORT: "7002" });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# source: ${file}`);
    expect(r.stdout).toContain("listen_address: 0.0.0.0:7000");
    expect(r.stdout).toContain("metrics_port: 7002");
    expect(r.stdout).toContain("level: debug");
    expect(r.stderr).toContain("mystery_key");
  });

  test("a wrong value in the config file exits 2 naming the key, the value and what is allowed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lq-cfg-"));
    const file = join(dir, "node.yaml");
    writeFileSync(file, "hypervisor:\n  backend: xen\n");
    const r = await output(["--config", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("hypervisor.backend");
    expect(r.stderr).toContain("xen");
    expect(r.stderr).toContain("libvirt");
  });
});
