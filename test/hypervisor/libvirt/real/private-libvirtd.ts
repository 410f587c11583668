// A libvirtd of the test's own, serving only libvirt's test driver: its own config, sockets and
// pid file under a temporary folder, and no driver modules (LIBVIRT_DRIVER_DIR points at an empty
// folder, so it starts no QEMU, network or storage driver and touches nothing of the system
// libvirtd's /run/libvirt). A test may stop and restart it at will; the system libvirtd, which
// other tests use, is never touched. virt-admin reads its client count on its admin socket.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export const hasPrivateLibvirtdTools = (): boolean => Bun.which("libvirtd") !== null && Bun.which("virt-admin") !== null;

export interface PrivateLibvirtd {
  /** test+unix URI of the test driver loaded from nodeXml, through this daemon's socket. */
  readonly uri: string;
  /** Clients connected right now (virt-admin srv-clients-info: nclients). */
  clients(): number;
  /** Starts the daemon (again) and waits until it answers. */
  start(): Promise<void>;
  /** SIGTERM, and waits until the process is gone. */
  stop(): Promise<void>;
  /** Stops it if it runs, removes the folder. */
  remove(): Promise<void>;
}

/** nodeXml: a test driver <node> document (domains, pools...) the daemon serves. */
export function privateLibvirtd(prefix: string, nodeXml: string): PrivateLibvirtd {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const run = join(dir, "run");
  const noDrivers = join(dir, "no-drivers");
  mkdirSync(run);
  mkdirSync(noDrivers);
  writeFileSync(join(dir, "node.xml"), nodeXml);
  writeFileSync(
    join(dir, "libvirtd.conf"),
    [`unix_sock_dir = "${run}"`, "listen_tls = 0", "listen_tcp = 0", 'auth_unix_rw = "none"', 'auth_unix_ro = "none"', ""].join("\n"),
  );
  const admin = `libvirtd:///system?socket=${run}/libvirt-admin-sock`;
  let proc: Subprocess | undefined;

  const clientsOrUndefined = (): number | undefined => {
    const r = Bun.spawnSync(["virt-admin", "-c", admin, "srv-clients-info", "libvirtd"], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) return undefined;
    const m = /^nclients\s*:\s*(\d+)$/m.exec(r.stdout.toString());
    return m ? Number(m[1]) : undefined;
  };

  return {
    uri: `test+unix://${join(dir, "node.xml")}?socket=${run}/libvirt-sock`,
    clients() {
      const n = clientsOrUndefined();
      if (n === undefined) throw new Error(`virt-admin could not read the client count of the libvirtd at ${run}`);
      return n;
    },
    async start() {
      proc = Bun.spawn(["libvirtd", "-f", join(dir, "libvirtd.conf"), "-p", join(dir, "libvirtd.pid")], {
        env: { ...process.env, LIBVIRT_DRIVER_DIR: noDrivers },
        stdout: "ignore",
        stderr: "ignore",
      });
      for (let i = 0; i < 200; i++) {
        if (proc.exitCode !== null) throw new Error(`private libvirtd exited with ${proc.exitCode} at start`);
        if (clientsOrUndefined() !== undefined) return;
        await Bun.sleep(25);
      }
      throw new Error("private libvirtd did not answer within 5 s of starting");
    },
    async stop() {
      if (proc === undefined || proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)]);
      if (!exited) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
    },
    async remove() {
      await this.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test driver <node> with `count` running domains named <prefix>-<i>. */
export function testDriverNode(prefix: string, count: number): string {
  const domains = Array.from(
    { length: count },
    (_, i) =>
      `<domain type='test'><name>${prefix}-${i}</name><uuid>5a1b0c2d-14b1-4000-8000-${String(i).padStart(12, "0")}</uuid>` +
      "<memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>",
  ).join("");
  return (
    "<node><cpu><nodes>1</nodes><sockets>1</sockets><cores>2</cores><threads>1</threads><active>2</active><mhz>2000</mhz>" +
    `<model>i686</model></cpu><memory>8388608</memory>${domains}</node>`
  );
}
