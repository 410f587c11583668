// Shared pieces of the real tier: whether it may run, virsh cross-checks, libvirtd restarts and
// a main-thread stall probe.

import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REAL = process.env.LIMIQUANTIX_REAL_LIBVIRT === "1";
export const URI = process.env.LIMIQUANTIX_REAL_LIBVIRT_URI ?? "qemu:///system";

if (!REAL) {
  console.warn(
    "real libvirt tier SKIPPED: set LIMIQUANTIX_REAL_LIBVIRT=1 after `sudo bash scripts/setup-libvirt.sh` " +
      "(installs and starts libvirtd with QEMU) to run it",
  );
}

/** What scripts/setup-libvirt.sh found, from /run/limiquantix-libvirt.env; the process env wins. */
function setupValue(name: string): string | undefined {
  const fromEnv = process.env[name];
  if (fromEnv !== undefined) return fromEnv;
  try {
    for (const line of readFileSync("/run/limiquantix-libvirt.env", "utf8").split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0 && line.slice(0, eq) === name) return line.slice(eq + 1).trim();
    }
  } catch {}
  return undefined;
}

/** kvm or qemu (TCG), as scripts/setup-libvirt.sh found it. */
export function realDomainType(): "kvm" | "qemu" {
  const value = setupValue("LIMIQUANTIX_REAL_DOMAIN_TYPE");
  return value === "kvm" ? "kvm" : "qemu";
}

/** CPU features KVM guests need turned off on this host (hypervisor.cpu_disabled_features). */
export function realCpuDisabledFeatures(): string[] {
  return (setupValue("LIMIQUANTIX_REAL_CPU_DISABLED_FEATURES") ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
}

/** The libvirt network setup-libvirt.sh defined on the test bridge (hypervisor.default_network). */
export function realNetwork(): string {
  return setupValue("LIMIQUANTIX_REAL_NETWORK") ?? "lqtest";
}

export interface RealTierStorage {
  /** A fresh folder of this run's own, 0755. */
  root: string;
  /** <root>/vms, which the backend's pool creates, as it does <state_dir>/vms. */
  storagePath: string;
  /** Unique per run, so a pool an interrupted run left behind (found by name) is never reused. */
  poolName: string;
  /** Stops and undefines the pool (if any) and deletes the folder. */
  remove(): void;
}

/**
 * Storage of the run's own under a fresh temporary folder, so the tier passes whatever ran on this
 * machine before (a 0700 /var/lib/limiquantix, a leftover pool). mkdtemp makes the folder 0700; it
 * is opened to 0755 because QEMU runs as its own user and must pass through it.
 */
export function realTierStorage(prefix: string): RealTierStorage {
  const root = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(root, 0o755);
  const poolName = `${prefix}${root.slice(-6).toLowerCase()}`;
  return {
    root,
    storagePath: join(root, "vms"),
    poolName,
    remove() {
      virshQuietly(["pool-destroy", poolName], ["pool-undefine", poolName]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function virsh(...args: string[]): string {
  const r = Bun.spawnSync(["virsh", "-q", "-c", URI, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`virsh ${args.join(" ")}: ${r.stderr.toString().trim()}`);
  return r.stdout.toString().trim();
}

/** Runs each virsh command, ignoring its failure: clean-up of what a test may or may not have made. */
export function virshQuietly(...commands: string[][]): void {
  for (const cmd of commands) {
    try {
      virsh(...cmd);
    } catch {}
  }
}

export const domstate = (id: string) => virsh("domstate", id);

function libvirtdPid(): number | undefined {
  for (const f of ["/run/libvirtd.pid", "/var/run/libvirtd.pid"]) {
    if (existsSync(f)) {
      const pid = Number.parseInt(readFileSync(f, "utf8").trim(), 10);
      if (Number.isInteger(pid) && pid > 0) return pid;
    }
  }
  return undefined;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops libvirtd (by the pid it wrote) and waits until it is gone. */
export async function stopLibvirtd(): Promise<void> {
  const pid = libvirtdPid();
  if (pid === undefined) throw new Error("libvirtd pid file not found; was it started by scripts/setup-libvirt.sh?");
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && alive(pid); i++) await Bun.sleep(100);
  if (alive(pid)) throw new Error(`libvirtd ${pid} did not exit within 10 s`);
}

export async function startLibvirtd(): Promise<void> {
  const r = Bun.spawnSync(["libvirtd", "-d"], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`libvirtd -d: ${r.stderr.toString()}`);
  for (let i = 0; i < 100; i++) {
    if (Bun.spawnSync(["virsh", "-c", URI, "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0) return;
    await Bun.sleep(100);
  }
  throw new Error("libvirtd did not answer within 10 s of starting");
}

/** Records the worst lateness of a 5 ms timer: how long the API thread was kept from running. */
export function stallProbe(): { stop(): number } {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 5);
    last = now;
  }, 5);
  return {
    stop() {
      clearInterval(timer);
      return worst;
    },
  };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
