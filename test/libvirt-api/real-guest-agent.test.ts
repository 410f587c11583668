// The guest agent on a real guest: a Debian kernel, busybox, qemu-ga and the TypeScript test agent
// (test/guest/agent) packed into a bootable ISO by scripts/build-test-guest.sh (cached between
// runs), booted through the daemon's API the way the control plane creates a VM: the ISO in a
// LOCAL_DIR pool set up with InitStoragePool, a bootable CD-ROM, cloud-init user data and network
// config, a data disk, no CPU mode. Then every agent path the node uses, against that guest, and
// qemu-ga's: REST qemu-agent/ping, and a quiesced snapshot through qemu-ga while the Quantix agent
// is down. Runs with LIMIQUANTIX_REAL_LIBVIRT=1 (LIMIQUANTIX_REAL_GUEST=0 leaves it out).
// The guest runs under TCG (domain type qemu) on every host: what this tier needs is a guest that boots in ~20-30 s everywhere, not acceleration, and nested
// KVM on some CI machines runs the BIOS and GRUB so slowly that the ISO takes minutes to boot.
// LIMIQUANTIX_GUEST_DOMAIN_TYPE=kvm tries KVM instead.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createLogger } from "../../src/common/logger.ts";
import { startDaemon, type Daemon } from "../../src/daemon.ts";
import { EventType, NodeDaemonService, type NodeEvent, PowerState, StoragePoolType } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createBackend } from "../../src/hypervisor/create-backend.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";
import { buildTestGuest, type GuestImage } from "../guest/guest-image.ts";
import {
  REAL,
  realCpuDisabledFeatures,
  realNetwork,
  realTierStorage,
  type RealTierStorage,
  URI,
  virsh,
  virshQuietly,
} from "../hypervisor/libvirt/real/helpers.ts";
import { type EventRecorder, recordEvents } from "../support/record-events.ts";
import { tempDaemonConfig } from "../support/temp-config.ts";

// A pool id of its own per run: a fixed one left behind by a run that died (or held by a run in
// another clone at the same time) sits at another folder, and InitStoragePool refuses to move it.
const POOL_ID = crypto.randomUUID();
const ISO_NAME = "quantix-test-guest.iso";
const HOSTNAME = "agent-guest";
const GUEST_IP = "10.213.7.10";
// Bounds, not expectations: a boot takes 15-70 s here, but a host crowded with other guests
// (TCG) has taken over 3 minutes.
const BOOT_MS = 300_000;
const STEP_MS = 420_000;
const LOG = "/var/log/quantix-agent.log";
const override = process.env.LIMIQUANTIX_GUEST_DOMAIN_TYPE;
const domainType: "kvm" | "qemu" = override === "kvm" ? "kvm" : "qemu";

interface Running {
  daemon: Daemon;
  hypervisor: Hypervisor;
  grpc: Client<typeof NodeDaemonService>;
  recorder: EventRecorder;
}

/** Polls fn every intervalMs until it returns a value other than undefined, for at most timeoutMs. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `; last error: ${(last as Error).message}` : ""}`);
    await Bun.sleep(intervalMs);
  }
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Part of the real tier; LIMIQUANTIX_REAL_GUEST=0 leaves it out (it builds and boots a guest image). */
const REAL_GUEST = REAL && process.env.LIMIQUANTIX_REAL_GUEST !== "0";
if (REAL && !REAL_GUEST) console.warn("real guest-agent tier SKIPPED: LIMIQUANTIX_REAL_GUEST=0");

describe.skipIf(!REAL_GUEST)(`the guest agent on a real guest, libvirt at ${URI}`, () => {
  let image: GuestImage;
  let storage: RealTierStorage;
  let run: Running;
  const events: NodeEvent[] = [];
  const id = crypto.randomUUID();
  const name = `lq13-agent-${id.slice(0, 8)}`;
  const { config } = tempDaemonConfig("lq-agent-real-", { backend: "libvirt", libvirtUri: URI });
  const log = createLogger({ level: "warn", format: "text" });
  const timings: Record<string, string> = {};
  const since = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;

  async function start(): Promise<Running> {
    const hypervisor = await createBackend(config, log, { poolName: storage.poolName, domainType });
    const daemon = await startDaemon(config, log, { hypervisor });
    const grpc = createClient(NodeDaemonService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${daemon.api.port}` }));
    return { daemon, hypervisor, grpc, recorder: recordEvents(grpc, events) };
  }

  async function stop(r: Running) {
    await r.recorder.stop();
    await r.daemon.stop();
  }

  const status = () => run.grpc.getVMStatus({ vmId: id });
  const exec = async (command: string) => {
    const r = await run.grpc.executeInGuest({ vmId: id, command, timeoutSeconds: 30 });
    expect({ command, error: r.error, stderr: r.stderr, exitCode: r.exitCode }).toEqual({ command, error: "", stderr: "", exitCode: 0 });
    return r.stdout;
  };
  const guestFile = async (path: string) => new TextDecoder().decode((await run.grpc.readGuestFile({ vmId: id, path })).data);
  const agentLog = () => guestFile(LOG);
  const rest = async (path: string) =>
    (await fetch(`https://127.0.0.1:${run.daemon.agentRest?.port}/api/v1/vms/${id}/${path}`, { tls: { rejectUnauthorized: false } } as RequestInit)).json();
  const agentAnswers = () =>
    waitFor(
      "the guest agent to connect",
      async () => {
        const s = await status();
        return s.guestAgent?.connected && s.guestAgent.hostname ? s : undefined;
      },
      BOOT_MS,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await diagnosis()}`);
    });
  /** What a failed wait prints: the domain's state and reason, the agent as the node sees it, QEMU's log. */
  async function diagnosis(): Promise<string> {
    const lines: string[] = [];
    const attempt = async (what: string, fn: () => string | Promise<string>) => {
      try {
        lines.push(`${what}: ${await fn()}`);
      } catch (err) {
        lines.push(`${what}: ${(err as Error).message}`);
      }
    };
    await attempt("virsh domstate --reason", () => virsh("domstate", id, "--reason"));
    await attempt("GetVMStatus.guestAgent", async () =>
      JSON.stringify((await status()).guestAgent ?? null, (_k, v) => (typeof v === "bigint" ? String(v) : v)),
    );
    await attempt("agent manager", () => JSON.stringify(run.daemon.agents.stats()));
    await attempt(`tail of /var/log/libvirt/qemu/${name}.log`, () =>
      readFileSync(`/var/log/libvirt/qemu/${name}.log`, "utf8").split("\n").slice(-15).join("\n"),
    );
    await attempt("inside the guest, through qemu-ga", () =>
      insideThroughQemuGa("cat /run/init.log; tail -n 20 /var/log/quantix-agent.log; ls -l /dev/virtio-ports; ps | grep -v ' [' "),
    );
    return lines.join("\n");
  }
  /** Runs a shell command in the guest through qemu-ga (guest-exec): what the Quantix agent cannot tell when it is the one that is down. */
  async function insideThroughQemuGa(command: string): Promise<string> {
    const hv = run.hypervisor;
    if (!hv.qemuAgentCommand) return "the backend has no qemuAgentCommand";
    const started = JSON.parse(
      await hv.qemuAgentCommand(
        id,
        JSON.stringify({ execute: "guest-exec", arguments: { path: "/bin/sh", arg: ["-c", command], "capture-output": true } }),
        10,
      ),
    ) as { return: { pid: number } };
    const done = await waitFor(
      "guest-exec to finish",
      async () => {
        const st = JSON.parse(
          (await hv.qemuAgentCommand?.(id, JSON.stringify({ execute: "guest-exec-status", arguments: { pid: started.return.pid } }), 10)) ?? "{}",
        ) as {
          return?: { exited: boolean; "out-data"?: string };
        };
        return st.return?.exited ? st.return : undefined;
      },
      20_000,
    );
    return `\n${Buffer.from(done["out-data"] ?? "", "base64").toString()}`;
  }
  const eventsOf = (type: EventType, from: number) => events.slice(from).filter((e) => e.vmId === id && e.type === type);

  beforeAll(async () => {
    let t = performance.now();
    image = buildTestGuest();
    timings.image = `${since(t)} (kernel ${image.kernelVersion})`;
    storage = realTierStorage("lq-agent-");
    config.node.stateDir = storage.root;
    config.hypervisor.storagePath = storage.storagePath;
    config.agent.socketDir = join(storage.root, "agent");
    config.hypervisor.defaultNetwork = realNetwork();
    config.hypervisor.cpuDisabledFeatures = domainType === "qemu" ? [] : realCpuDisabledFeatures();
    config.hypervisor.consoleListen = "127.0.0.1";
    config.agent.restListenAddress = "127.0.0.1:0";
    // A rebooting guest stops answering: notice it within a few seconds.
    config.agent.pingIntervalSecs = 2;
    config.agent.requestTimeoutSecs = 20;
    config.server.shutdownTimeoutSeconds = 2;
    t = performance.now();
    run = await start();
    timings.daemon = since(t);
  }, STEP_MS);

  afterAll(async () => {
    virshQuietly(["destroy", id], ["undefine", id, "--snapshots-metadata", "--nvram"], ["pool-destroy", POOL_ID], ["pool-undefine", POOL_ID]);
    if (run) await stop(run);
    storage?.remove();
    console.log(`\nreal guest agent tier (${domainType}):`);
    console.table(timings);
  }, STEP_MS);

  test(
    "the VM as the control plane creates it: ISO in a LOCAL_DIR pool, bootable CD-ROM, cloud-init, a data disk",
    async () => {
      const poolDir = join(storage.root, "pools", "agent");
      mkdirSync(join(poolDir, "iso"), { recursive: true });
      copyFileSync(image.iso, join(poolDir, "iso", ISO_NAME));
      const pool = await run.grpc.initStoragePool({ poolId: POOL_ID, type: StoragePoolType.LOCAL_DIR, config: { local: { path: poolDir } } });
      expect(pool.mountPath).toBe(poolDir);
      const created = await run.grpc.createVM({
        vmId: id,
        name,
        spec: {
          cpuSockets: 1,
          cpuCores: 2,
          cpuThreadsPerCore: 1,
          memoryMib: 512n,
          disks: [{ id: "data", sizeGib: 1n, poolId: POOL_ID }],
          cdroms: [{ id: "cd0", isoPath: `iso/${ISO_NAME}`, bootable: true }],
          nics: [{ id: "eth0" }],
          cloudInit: {
            userData: `#cloud-config\nhostname: ${HOSTNAME}\n`,
            networkConfig: `version: 2\nethernets:\n  eth0:\n    addresses: [${GUEST_IP}/24]\n`,
          },
        },
      });
      expect(created.created).toBe(true);
      expect(created.vm?.spec?.cdroms.find((c) => c.id === "cd0")?.resolvedPath).toBe(join(poolDir, "iso", ISO_NAME));
      const t = performance.now();
      await run.grpc.startVM({ vmId: id });
      const s = await agentAnswers();
      timings["start to agent answering"] = since(t);
      timings["domain type"] = /<domain type='(\w+)'/.exec(virsh("dumpxml", id))?.[1] ?? "?";
      expect(s.state).toBe(PowerState.RUNNING);
    },
    STEP_MS,
  );

  test(
    "PingAgent, uname -r, the guest's hostname and IP in GetVMStatus",
    async () => {
      const pong = await run.grpc.pingAgent({ vmId: id });
      expect({ connected: pong.connected, error: pong.error, version: pong.version }).toEqual({ connected: true, error: "", version: "0.1.0-test-guest" });
      expect((await exec("uname -r")).trim()).toBe(image.kernelVersion);
      const s = await waitFor(
        "the guest's IP in GetVMStatus",
        async () => {
          const st = await status();
          return st.guestAgent?.ipAddresses.includes(GUEST_IP) ? st : undefined;
        },
        20_000,
      );
      expect(s.guestAgent).toMatchObject({ connected: true, hostname: HOSTNAME, kernelVersion: image.kernelVersion, osName: "Quantix test guest" });
      expect(eventsOf(EventType.AGENT_CONNECTED, 0).length).toBeGreaterThanOrEqual(1);
      // REST row 2: qemu-ga in the same guest, through libvirt's virDomainQemuAgentCommand.
      expect(await rest("qemu-agent/ping")).toEqual({ available: true });
    },
    STEP_MS,
  );

  test(
    "a 1 MiB file written and read back byte for byte",
    async () => {
      const data = new Uint8Array(1024 * 1024);
      crypto.getRandomValues(data.subarray(0, 65536));
      for (let i = 65536; i < data.length; i++) data[i] = (i * 31 + (data[i % 65536] ?? 0)) & 0xff;
      const w = await run.grpc.writeGuestFile({ vmId: id, path: "/root/probe/one-mib.bin", data, mode: 0o600 });
      expect({ success: w.success, error: w.error, bytes: w.bytesWritten }).toEqual({ success: true, error: "", bytes: BigInt(data.length) });
      const parts: Uint8Array[] = [];
      for await (const chunk of run.grpc.downloadGuestFile({ vmId: id, path: "/root/probe/one-mib.bin" })) parts.push(chunk.data);
      const back = Buffer.concat(parts);
      expect(back.length).toBe(data.length);
      expect(sha256(back)).toBe(sha256(data));
      expect((await exec("sha256sum /root/probe/one-mib.bin")).split(" ")[0]).toBe(sha256(data));
      expect((await exec("stat -c %a /root/probe/one-mib.bin")).trim()).toBe("600");
    },
    STEP_MS,
  );

  test(
    "a quiesced snapshot freezes the data disk through the agent and thaws it",
    async () => {
      const mounted = await run.grpc.executeInGuest({ vmId: id, command: "grep ' /mnt/data ' /proc/mounts", timeoutSeconds: 30 });
      if (mounted.exitCode !== 0) {
        // Why the guest's init did not mount its data disk: its own log and the kernel's.
        const why = await run.grpc.executeInGuest({ vmId: id, command: "cat /run/init.log; dmesg | tail -n 30", timeoutSeconds: 30 });
        console.error(`/mnt/data is not mounted in the guest:\n${why.stdout}${why.stderr}`);
      }
      expect(mounted.stdout.split(" ")[2]).toBe("ext4");
      const snap = await run.grpc.createSnapshot({ vmId: id, name: "quiesced", quiesce: true });
      expect(snap.quiesced).toBe(true);
      const text = await agentLog();
      const froze = text.lastIndexOf("froze /mnt/data");
      const thawed = text.lastIndexOf("thawed /mnt/data");
      expect({ froze: froze >= 0, thawedAfter: thawed > froze }).toEqual({ froze: true, thawedAfter: true });
      // Thawed for real: the filesystem takes writes again.
      await exec("echo after-snapshot > /mnt/data/after && sync");
    },
    STEP_MS,
  );

  test(
    "with the Quantix agent down, a quiesced snapshot freezes the guest through qemu-ga and thaws it",
    async () => {
      // Backgrounded and detached from the reply's pipes: the agent answers, then goes down.
      await exec("touch /run/quantix-agent.off; (sleep 1; killall quantix-agent) >/dev/null 2>&1 &");
      await waitFor("the Quantix agent to be seen down", async () => ((await status()).guestAgent?.connected ? undefined : true), 60_000);
      expect(await rest("qemu-agent/ping")).toEqual({ available: true });
      const snap = await run.grpc.createSnapshot({ vmId: id, name: "quiesced-by-qemu-ga", quiesce: true });
      expect(snap.quiesced).toBe(true);
      // Back up: qemu-ga removes the switch (guest-exec), the init loop starts the agent again.
      const hv = run.hypervisor;
      if (!hv.qemuAgentCommand) throw new Error("the libvirt backend has no qemuAgentCommand");
      await hv.qemuAgentCommand(id, JSON.stringify({ execute: "guest-exec", arguments: { path: "/bin/rm", arg: ["-f", "/run/quantix-agent.off"] } }), 10);
      await agentAnswers();
      // qemu-ga's fsfreeze hook wrote the freeze and the thaw, in that order.
      const hook = (await guestFile("/run/fsfreeze.log")).trim().split("\n");
      expect(hook.map((l) => l.split(" ").slice(1).join(" ")).slice(-2)).toEqual(["qemu-ga freeze", "qemu-ga thaw"]);
      await exec("echo after-qemu-ga-snapshot > /mnt/data/after && sync");
    },
    STEP_MS,
  );

  test(
    "a graceful StopVM powers the guest off by ACPI",
    async () => {
      const t = performance.now();
      const r = await run.grpc.stopVM({ vmId: id, timeoutSeconds: 90 });
      timings["graceful stop"] = since(t);
      expect(r.vm?.state).toBe(PowerState.STOPPED);
      const t2 = performance.now();
      await run.grpc.startVM({ vmId: id });
      await agentAnswers();
      timings["start again to agent answering"] = since(t2);
      // The guest wrote why it powered off to its data disk on the way down.
      const power = (await exec("cat /mnt/data/power.log")).trim().split("\n");
      expect(power.at(-2)).toMatch(/ poweroff \(acpi power button\s*\)$/);
    },
    STEP_MS,
  );

  test(
    "GuestShutdown with reboot brings the guest back and the agent reconnects",
    async () => {
      const bootBefore = (await exec("cat /proc/sys/kernel/random/boot_id")).trim();
      const from = events.length;
      const t = performance.now();
      const r = await run.grpc.guestShutdown({ vmId: id, reboot: true });
      expect({ accepted: r.accepted, error: r.error }).toEqual({ accepted: true, error: "" });
      await waitFor("AGENT_DISCONNECTED", async () => (eventsOf(EventType.AGENT_DISCONNECTED, from).length > 0 ? true : undefined), BOOT_MS);
      const down = events.findIndex((e, i) => i >= from && e.vmId === id && e.type === EventType.AGENT_DISCONNECTED);
      await waitFor("AGENT_CONNECTED after the reboot", async () => (eventsOf(EventType.AGENT_CONNECTED, down).length > 0 ? true : undefined), BOOT_MS);
      await agentAnswers();
      timings["guest reboot to agent answering"] = since(t);
      expect((await exec("cat /proc/sys/kernel/random/boot_id")).trim()).not.toBe(bootBefore);
      expect((await exec("tail -n 2 /mnt/data/power.log")).split("\n")[0]).toContain(" reboot");
      expect((await status()).state).toBe(PowerState.RUNNING);
    },
    STEP_MS,
  );

  test(
    "a daemon restart reconnects to the running guest's agent",
    async () => {
      const pid = virsh("domid", id);
      await stop(run);
      const t = performance.now();
      run = await start();
      const s = await agentAnswers();
      timings["daemon restart to agent answering"] = since(t);
      expect(s.state).toBe(PowerState.RUNNING);
      expect(virsh("domid", id)).toBe(pid);
      const pong = await run.grpc.pingAgent({ vmId: id });
      expect({ connected: pong.connected, error: pong.error }).toEqual({ connected: true, error: "" });
      expect((await exec("echo still here")).trim()).toBe("still here");
    },
    STEP_MS,
  );
});
