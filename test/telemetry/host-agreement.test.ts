// Integration: our figures against the standard tools, run around the same sample on this
// machine. Figures that move are bracketed: the tool runs just before and just after our read,
// and ours must lie between the two (with a small tolerance). A comparison is skipped only when
// its tool is absent (Debian packages: coreutils, util-linux, procps, iproute2).

import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { createTelemetry } from "../../src/telemetry/telemetry.ts";
import { complete } from "./complete-sample.ts";
import type { HostIdentity } from "../../src/telemetry/types.ts";

const telemetry = createTelemetry({ procRoot: "/proc", sysRoot: "/sys", etcRoot: "/etc", filesystemPaths: ["/"] });

const PACKAGE: Record<string, string> = { nproc: "coreutils", df: "coreutils", lscpu: "util-linux", free: "procps", ip: "iproute2" };

function tool(name: string): string | undefined {
  const found = Bun.which(name) ?? ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map((d) => `${d}/${name}`).find((p) => existsSync(p));
  if (found === undefined) {
    const why = `${name} is not installed (Debian package ${PACKAGE[name]})`;
    // On CI a missing tool is a broken image, not a reason to compare less.
    if (process.env.CI) throw new Error(`host-agreement: ${why}`);
    console.warn(`host-agreement: ${why}; its comparison is skipped`);
  }
  return found;
}

function run(cmd: string[]): string {
  const r = Bun.spawnSync(cmd, { env: { ...process.env, LC_ALL: "C" } });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

function within(value: number, a: number, b: number, tolerance: number): void {
  expect(value).toBeGreaterThanOrEqual(Math.min(a, b) - tolerance);
  expect(value).toBeLessThanOrEqual(Math.max(a, b) + tolerance);
}

const MiB = 1024 ** 2;
const tools = { nproc: tool("nproc"), lscpu: tool("lscpu"), free: tool("free"), df: tool("df"), ip: tool("ip") };

let identity: HostIdentity;
beforeAll(async () => {
  identity = await telemetry.identity();
});

describe("agreement with standard tools", () => {
  test.skipIf(!tools.nproc)("nproc: online CPUs", () => {
    expect(identity.cpu.onlineCpus).toBe(Number(run([tools.nproc as string]).trim()));
  });

  test.skipIf(!tools.lscpu)("lscpu: CPUs, sockets, cores, threads, model", () => {
    const out = run([tools.lscpu as string]);
    const field = (label: string) => new RegExp(`^${label}:\\s*(.+)$`, "m").exec(out)?.[1]?.trim();
    expect(identity.cpu.totalThreads).toBe(Number(field("CPU\\(s\\)")));
    expect(identity.cpu.sockets).toBe(Number(field("Socket\\(s\\)")));
    expect(identity.cpu.coresPerSocket).toBe(Number(field("Core\\(s\\) per socket")));
    expect(identity.cpu.threadsPerCore).toBe(Number(field("Thread\\(s\\) per core")));
    expect(identity.cpu.model).toBe(field("Model name") as string);
    expect(identity.cpu.virtualization).toBe(/^Virtualization:\s*(VT-x|AMD-V)/m.test(out));
  });

  test.skipIf(!tools.free)("free -b: total exact, available bracketed", async () => {
    const mem = () => {
      const line = run([tools.free as string, "-b"])
        .split("\n")
        .find((l) => l.startsWith("Mem:"));
      const f = (line ?? "").split(/\s+/).map(Number);
      return { total: f[1] as number, available: f[6] as number };
    };
    const before = mem();
    const s = complete(await telemetry.sample());
    const after = mem();
    expect(s.memory.totalBytes).toBe(before.total);
    within(s.memory.availableBytes as number, before.available, after.available, 64 * MiB);
  });

  test.skipIf(!tools.df)("df -B1 /: size exact, used and available bracketed", async () => {
    const df = () => {
      const line =
        run([tools.df as string, "-B1", "--output=size,used,avail", "/"])
          .trim()
          .split("\n")[1] ?? "";
      const [size, used, avail] = line.trim().split(/\s+/).map(Number);
      return { size: size as number, used: used as number, avail: avail as number };
    };
    const before = df();
    const s = complete(await telemetry.sample());
    const after = df();
    const root = s.filesystems.find((f) => f.path === "/");
    expect(root?.totalBytes).toBe(before.size);
    within(root?.usedBytes as number, before.used, after.used, 256 * MiB);
    within(root?.availableBytes as number, before.avail, after.avail, 256 * MiB);
    expect(root?.mountpoint).toBe("/");
  });

  test("/proc/loadavg read by cat", async () => {
    const cat = () => run(["cat", "/proc/loadavg"]).trim().split(/\s+/).slice(0, 3).map(Number);
    const before = cat();
    const s = complete(await telemetry.sample());
    const after = cat();
    within(s.load.load1, before[0] as number, after[0] as number, 0.001);
    within(s.load.load5, before[1] as number, after[1] as number, 0.001);
    within(s.load.load15, before[2] as number, after[2] as number, 0.001);
  });

  test.skipIf(!tools.ip)("ip -s link: every interface, lo byte and packet counters bracketed", async () => {
    type Link = { ifname: string; stats64?: { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } } };
    const links = (): Link[] => JSON.parse(run([tools.ip as string, "-s", "-j", "link", "show"]));
    const before = links();
    const s = complete(await telemetry.sample());
    const after = links();
    // Same interfaces (ip may print altnames; compare the names).
    expect(s.network.map((n) => n.name).sort()).toEqual(after.map((l) => l.ifname).sort());
    const lo = s.network.find((n) => n.name === "lo");
    const b = before.find((l) => l.ifname === "lo")?.stats64;
    const a = after.find((l) => l.ifname === "lo")?.stats64;
    expect(lo && a && b).toBeTruthy();
    within(lo?.rxBytes as number, b?.rx.bytes as number, a?.rx.bytes as number, 0);
    within(lo?.txBytes as number, b?.tx.bytes as number, a?.tx.bytes as number, 0);
    within(lo?.rxPackets as number, b?.rx.packets as number, a?.rx.packets as number, 0);
  });

  test("hostname and kernel as uname reports them", () => {
    expect(identity.hostname).toBe(run(["uname", "-n"]).trim());
    expect(identity.os.kernel).toBe(run(["uname", "-r"]).trim());
    expect(identity.os.arch).toBe(run(["uname", "-m"]).trim());
  });

  test("usage over a real interval is a percentage", async () => {
    await telemetry.sample();
    await Bun.sleep(250);
    const s = complete(await telemetry.sample());
    expect(s.cpu.usagePercent).toBeGreaterThanOrEqual(0);
    expect(s.cpu.usagePercent).toBeLessThanOrEqual(100);
    expect(s.cpu.perCpuUsagePercent?.size).toBe(identity.cpu.onlineCpus);
  });
});
