// `--dev` on a host without /proc and /sys (what a Mac is): the proc, sys and etc roots point at
// empty folders, and a real daemon (mock backend, real gRPC client, real /metrics endpoint) must
// still answer GetNodeInfo from the os module, stream samples with the VMs' figures, and serve
// Prometheus, with what it could not read named in the answers and logged once.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { TaggedLogger } from "../../src/common/logger.ts";
import { startDaemon, type Daemon } from "../../src/daemon.ts";
import { type NodeMetrics, NodeDaemonService, PowerState } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { cli } from "../cli/operator/helpers.ts";
import { newVmId } from "../support/daemon.ts";
import { tempDaemonConfig } from "../support/temp-config.ts";

interface Line {
  level: string;
  tag: string;
  text: string;
}

function capturingLogger(lines: Line[], tag = ""): TaggedLogger {
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      void lines.push({ level, tag, text: args.map(String).join(" ") });
  return { level: 3, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), withTag: (t) => capturingLogger(lines, t) };
}

const lines: Line[] = [];
let daemon: Daemon;
let client: Client<typeof NodeDaemonService>;
let root: string;

beforeAll(async () => {
  const { config, dir } = tempDaemonConfig("lq-noproc-");
  root = dir;
  for (const d of ["proc", "sys", "etc"]) mkdirSync(join(dir, d));
  config.telemetry.procRoot = join(dir, "proc");
  config.telemetry.sysRoot = join(dir, "sys");
  config.telemetry.etcRoot = join(dir, "etc");
  config.server.metricsEnabled = true;
  config.server.metricsListen = "127.0.0.1";
  config.server.metricsPort = 0;
  config.server.shutdownTimeoutSeconds = 2;
  daemon = await startDaemon(config, capturingLogger(lines));
  client = createClient(NodeDaemonService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${daemon.api.port}` }));
});

afterAll(async () => {
  await daemon.stop();
});

describe("dev mode with empty proc, sys and etc roots", () => {
  test("GetNodeInfo answers with the os module's facts and names what it could not know", async () => {
    const info = await client.getNodeInfo({});
    expect(info.hostname).toBe(os.hostname());
    expect(info.cpu?.model).toBe(os.cpus()[0]?.model.trim() ?? "");
    expect(info.cpu?.totalThreads).toBe(os.cpus().length);
    expect(info.memory?.totalBytes).toBe(BigInt(os.totalmem()));
    expect(info.os).toMatchObject({ name: os.type(), kernel: os.release(), arch: os.machine() });
    // Not zero: absent, and said so.
    expect(info.absentFields).toEqual(
      expect.arrayContaining([
        "cpu.sockets",
        "cpu.cores_per_socket",
        "cpu.threads_per_core",
        "cpu.features",
        "cpu.virtualization",
        "os.version",
        "numa_nodes",
        "pci_devices",
      ]),
    );
    expect(info.absentFields).not.toContain("memory.available_bytes");
    expect(info.capabilities?.name).not.toBe("");
  });

  test("StreamMetrics delivers samples with the VMs' figures; what /proc alone knows is marked absent", async () => {
    const vmId = newVmId();
    await client.createVM({
      vmId,
      name: "noproc-1",
      spec: { cpuSockets: 1, cpuCores: 2, cpuThreadsPerCore: 1, memoryMib: 512n, disks: [{ id: "root", sizeGib: 1n, bootable: true }] },
    });
    await client.startVM({ vmId });
    const stop = new AbortController();
    const samples: NodeMetrics[] = [];
    for await (const m of client.streamMetrics({ intervalMs: 250 }, { signal: stop.signal, timeoutMs: 10_000 })) {
      samples.push(m);
      if (samples.length === 3) break;
    }
    stop.abort();
    // The first sample may be one shared with the GetNodeInfo above (taken before the VM existed).
    const [first, second, third] = samples as [NodeMetrics, NodeMetrics, NodeMetrics];
    for (const m of [second, third]) {
      expect(m.vms.find((v) => v.vmId === vmId)).toMatchObject({ name: "noproc-1", state: PowerState.RUNNING, vcpus: 2 });
      expect(m.runningVms).toBeGreaterThanOrEqual(1);
    }
    for (const m of samples) {
      expect(m.memoryTotalBytes).toBe(BigInt(os.totalmem()));
      expect(m.uptimeSeconds).toBeGreaterThan(0n);
      expect(m.absentFields).toEqual(expect.arrayContaining(["disks", "networks", "swap_total_bytes", "swap_used_bytes"]));
      expect(m.absentFields).not.toContain("vms");
    }
    // CPU usage comes from the os module's CPU times once two readings exist.
    for (const m of samples) expect(m.absentFields.includes("cpu_usage_percent")).toBe(!m.cpuMeasured);
    expect(third.cpuMeasured).toBe(true);
    expect(third.perCpuUsagePercent).toHaveLength(os.cpus().length);
    expect(first.timestamp).toBeDefined();
  });

  test("/metrics answers 200 with what it has", async () => {
    const res = await fetch(`http://127.0.0.1:${daemon.metrics?.port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^limiquantix_vm_vcpus\{vm_id="[^"]+",name="noproc-1"\} 2$/m);
    expect(text).toMatch(/^node_memory_MemTotal_bytes \d+$/m);
    expect(text).toMatch(/^node_load1 [\d.e-]+$/m);
    expect(text).toContain(`limiquantix_host_source_up{source="${join(root, "proc", "stat")}"} 0`);
    expect(text).not.toMatch(/^node_disk_/m);
    expect(text).not.toMatch(/^node_boot_time_seconds/m);
  });

  test("the operator CLI: `node info` and one-shot `metrics` print, with – for what the host cannot say", async () => {
    const addr = ["--addr", `127.0.0.1:${daemon.api.port}`];
    const info = await cli(["node", "info", ...addr]);
    expect(info.stderr).toBe("");
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^cpu:\s+.+ — \d+ cpus online \(topology unknown\)$/m);
    expect(info.stdout).toMatch(/^numa nodes:\s+–$/m);
    expect(info.stdout).toMatch(/^pci devices:\s+–$/m);
    const json = JSON.parse((await cli(["node", "info", "--json", ...addr])).stdout) as { cpu: Record<string, unknown> };
    expect(json.cpu).not.toHaveProperty("sockets");
    expect(json.cpu.totalThreads).toBe(os.cpus().length);
    const metrics = await cli(["metrics", ...addr], { timeoutMs: 15_000 });
    expect(metrics.code).toBe(0);
    expect(metrics.stdout).toMatch(/^disks\s+– \(not readable on this host\)$/m);
    expect(metrics.stdout).toMatch(/^noproc-1\s+running/m);
  });

  test("each unreadable source is logged once, with what it costs, however often the host is read", () => {
    const degraded = lines.filter((l) => l.tag === "telemetry" && l.text.includes(join(root, "proc", "meminfo")));
    expect(degraded).toHaveLength(1);
    expect(degraded[0]).toMatchObject({ level: "warn" });
    expect(degraded[0]?.text).toContain("no such file");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });
});
