// Migration between two real libvirt hosts through the daemon's MigrateVM: two namespaced
// libvirtds on this machine (scripts/two-libvirt-hosts.sh, brought up here and always torn
// down), one compiled daemon per host, guests without an OS (firmware only) so nothing waits
// for a boot. After each step virsh on both hosts, both daemons' ListVMs and their events say
// the same. Needs LIMIQUANTIX_REAL_LIBVIRT=1 (after scripts/setup-libvirt.sh); runs with or
// without KVM (LQ14C_NO_KVM=1 hides /dev/kvm from both hosts).

import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EventType, MigrationPhase, type MigrationProgress, type NodeEvent, PowerState } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { REAL, realCpuDisabledFeatures, realDomainType } from "../hypervisor/libvirt/real/helpers.ts";
import { type EventRecorder, recordEvents } from "../support/record-events.ts";
import {
  HOST_ADDRESS,
  type HostDaemon,
  type HostName,
  HOSTS_BASE,
  hostDomstate,
  hostsDown,
  hostsUp,
  hostVirsh,
  jobInfo,
  migrationUri,
  nbdStart,
  POWER_BY_VIRSH,
  qemuMigrationStatus,
  SHARED_DIR,
  startHostDaemon,
  until,
  virshDomains,
} from "../support/two-libvirt-hosts.ts";
import { connectErrorOf, printTable } from "./helpers.ts";

const STEP_MS = 120_000;
const NO_KVM = process.env.LQ14C_NO_KVM === "1";

interface Run {
  progress: MigrationProgress[];
  error?: Code;
  message?: string;
  ms: number;
}

describe.skipIf(!REAL)(`MigrateVM between two libvirt hosts on this machine (${NO_KVM ? "TCG" : realDomainType()})`, () => {
  const daemons = {} as Record<HostName, HostDaemon>;
  const events: Record<HostName, NodeEvent[]> = { A: [], B: [] };
  const recorders: EventRecorder[] = [];
  const figures: Record<string, string | number>[] = [];
  const tearDown = () => hostsDown();

  /** A guest without an OS (firmware only); `disks` adds new images in the node's storage. */
  type Extra = { disks?: { id: string; sizeGib: bigint; bootable: boolean }[] };
  const spec = (memoryMib: number, extra: Extra = {}) => ({
    cpuSockets: 1,
    cpuCores: 1,
    cpuThreadsPerCore: 1,
    memoryMib: BigInt(memoryMib),
    nics: [{ id: "eth0", bridge: "lq14c-br0" }],
    ...extra,
  });

  async function createOnA(prefix: string, memoryMib: number, start: boolean, extra: Extra = {}): Promise<string> {
    const id = crypto.randomUUID();
    const res = await daemons.A.grpc.createVM({ vmId: id, name: `lq14c-${prefix}-${id.slice(0, 6)}`, start, spec: spec(memoryMib, extra) });
    expect(res.vm?.state).toBe(start ? PowerState.RUNNING : PowerState.STOPPED);
    return id;
  }

  /** MigrateVM from host `from`; `abortWhen` cancels the call (the client goes away) at that progress. */
  async function migrate(
    from: HostName,
    id: string,
    req: { targetNodeUri: string; live: boolean; storage?: boolean; bandwidthMibPerS?: bigint },
    abortWhen?: (p: MigrationProgress) => boolean,
  ): Promise<Run & { abortedAt?: number }> {
    const abort = new AbortController();
    const run: Run & { abortedAt?: number } = { progress: [], ms: 0 };
    const t0 = performance.now();
    try {
      for await (const p of daemons[from].grpc.migrateVM({ vmId: id, storage: false, ...req }, { signal: abort.signal })) {
        run.progress.push(p);
        if (abortWhen?.(p)) {
          run.abortedAt = performance.now();
          abort.abort();
        }
      }
    } catch (err) {
      const e = await connectErrorOf(Promise.reject(err));
      run.error = e.code;
      run.message = e.rawMessage;
    }
    run.ms = performance.now() - t0;
    return run;
  }

  const phases = (r: Run) => r.progress.map((p) => MigrationPhase[p.phase]);
  const eventsOf = (h: HostName, id: string) => events[h].filter((e) => e.vmId === id).map((e) => EventType[e.type]);

  /** Both daemons' ListVMs say what virsh says on their host: the same VMs, the same states. */
  async function expectListsMatchVirsh(): Promise<void> {
    for (const h of ["A", "B"] as const) {
      const listed = (await daemons[h].grpc.listVMs({})).vms;
      const fromVirsh = virshDomains(h);
      expect(Object.fromEntries(listed.map((v) => [v.vmId, v.state]))).toEqual(
        Object.fromEntries(Object.entries(fromVirsh).map(([uuid, s]) => [uuid, POWER_BY_VIRSH[s] ?? PowerState.UNKNOWN])),
      );
    }
  }

  function jobFigures(label: string, r: Run, completed?: Record<string, string>) {
    figures.push({
      migration: label,
      "wall s": r.ms / 1000,
      "job time": completed?.["Time elapsed"] ?? "",
      downtime: completed?.["Total downtime"] ?? "",
      "data total": completed?.["Data total"] ?? "",
      "progress msgs": r.progress.length,
    });
  }

  beforeAll(async () => {
    // A run that died leaves hosts up: `up` tears them down first. Exit tears down too.
    process.on("exit", tearDown);
    const t0 = performance.now();
    hostsUp();
    const up = performance.now() - t0;
    const env = {
      // Only a host CPU (kvm) takes them; under TCG the daemon gives guests QEMU's "maximum" CPU.
      LIMIQUANTIX_HYPERVISOR_CPU_DISABLED_FEATURES: NO_KVM ? "" : realCpuDisabledFeatures().join(","),
    };
    [daemons.A, daemons.B] = await Promise.all([startHostDaemon("A", env), startHostDaemon("B", env)]);
    for (const h of ["A", "B"] as const) recorders.push(recordEvents(daemons[h].grpc, events[h]));
    figures.push({ migration: "(two hosts up, daemons started)", "wall s": up / 1000, "job time": "", downtime: "", "data total": "", "progress msgs": "" });
    expect((await daemons.A.grpc.getNodeInfo({})).hostname).toBe("lq14c-a");
    expect((await daemons.B.grpc.getNodeInfo({})).hostname).toBe("lq14c-b");
  }, STEP_MS);

  afterAll(async () => {
    for (const r of recorders) await r.stop().catch(() => {});
    for (const d of Object.values(daemons)) await d.daemon.stop();
    tearDown();
    process.off("exit", tearDown);
    printTable("migration between two hosts (job figures from virsh domjobinfo --completed on the destination)", figures);
  }, STEP_MS);

  test(
    "live: progress from the job's remaining bytes, the VM runs on B with its UUID, gone from A, lists and events agree",
    async () => {
      const id = await createOnA("live", 1024, true);
      // A bandwidth cap makes the copy last long enough for several progress samples.
      const r = await migrate("A", id, { targetNodeUri: migrationUri("B"), live: true, bandwidthMibPerS: 2n });
      console.info(`live migration: ${phases(r).join(" ")} (${(r.ms / 1000).toFixed(1)} s)`);
      for (const p of r.progress)
        console.info(
          `  ${MigrationPhase[p.phase]} ${p.percentComplete}% total ${p.dataTotalBytes} processed ${p.dataTransferredBytes} remaining ${p.dataRemainingBytes}`,
        );
      expect(r.error).toBeUndefined();
      expect(phases(r)[0]).toBe("PREPARING");
      expect(phases(r).at(-1)).toBe("COMPLETE");
      const samples = r.progress.filter((p) => p.phase === MigrationPhase.TRANSFERRING && p.dataTotalBytes > 0n);
      expect(samples.length).toBeGreaterThan(0);
      let last = 0;
      for (const p of samples) {
        const total = Number(p.dataTotalBytes);
        expect(p.percentComplete).toBe(Math.min(99, Math.floor(((total - Number(p.dataRemainingBytes)) / total) * 100)));
        expect(p.percentComplete).toBeGreaterThanOrEqual(last);
        last = p.percentComplete;
      }
      // Pages of zeros are sent as flags: processed / total would stay near 0 all along.
      expect(last).toBeGreaterThan(Math.floor((Number(samples.at(-1)?.dataTransferredBytes) / Number(samples.at(-1)?.dataTotalBytes)) * 100));

      expect(hostDomstate("A", id)).toBe("");
      expect(hostDomstate("B", id)).toBe("running");
      expect(hostVirsh("B", "domuuid", `lq14c-live-${id.slice(0, 6)}`)).toBe(id);
      expect((await daemons.B.grpc.getVMStatus({ vmId: id })).state).toBe(PowerState.RUNNING);
      const gone = await connectErrorOf(daemons.A.grpc.getVMStatus({ vmId: id }));
      expect(gone.code).toBe(Code.NotFound);
      await expectListsMatchVirsh();
      // A: the VM left and is gone (whether libvirt's "stopped: migrated away" came before or
      // after the call returned); B: it came in, is defined and runs.
      await until("A's events of the migration", () => eventsOf("A", id).includes("VM_DELETED"));
      await until("B's events of the VM coming in", () => eventsOf("B", id).includes("VM_MIGRATED_IN") && eventsOf("B", id).includes("VM_CREATED"));
      console.info(`events on A: ${eventsOf("A", id).join(" ")}; on B: ${eventsOf("B", id).join(" ")}`);
      expect(eventsOf("A", id)).toEqual(expect.arrayContaining(["MIGRATION_STARTED", "VM_MIGRATED_OUT"]));
      expect(eventsOf("A", id).at(-1)).toBe("VM_DELETED");
      expect(eventsOf("B", id)).not.toContain("VM_STOPPED");
      const created = events.B.find((e) => e.vmId === id && e.type === EventType.VM_CREATED);
      expect(created?.state).toBe(PowerState.RUNNING);
      jobFigures("live, 1 GiB guest, 2 MiB/s cap", r, jobInfo("B", id, true));
    },
    STEP_MS,
  );

  test(
    "cancelling the call aborts the job: the VM keeps running on A, nothing is left on B",
    async () => {
      const id = await createOnA("cancel", 2048, true);
      const r = await migrate(
        "A",
        id,
        { targetNodeUri: migrationUri("B"), live: true, bandwidthMibPerS: 1n },
        (p) => p.phase === MigrationPhase.TRANSFERRING && p.dataTotalBytes > 0n,
      );
      expect(r.abortedAt).toBeDefined();
      expect(r.error).toBe(Code.Canceled);
      const aborted = r.abortedAt ?? 0;
      // The job is gone from A (libvirt's own word), the guest runs there, B has nothing.
      // When QEMU stopped sending (the abort landed); libvirt then tears the job down with B.
      let qemuStatus = "";
      await until("QEMU on A to leave the active migration", () => {
        qemuStatus = qemuMigrationStatus("A", id);
        return qemuStatus !== "active" && qemuStatus !== "setup";
      });
      const abortLanded = performance.now() - aborted;
      await until("the migration job on A to end", () => jobInfo("A", id)["Job type"] === "None");
      const jobGone = performance.now() - aborted;
      console.info(`cancel: QEMU's migration ${qemuStatus} ${abortLanded.toFixed(0)} ms after the client went away`);
      await until("B to drop the incoming VM", () => hostDomstate("B", id) === "");
      console.info(`cancel: job gone on A ${jobGone.toFixed(0)} ms after the client went away; B clean after ${(performance.now() - aborted).toFixed(0)} ms`);
      expect(hostDomstate("A", id)).toBe("running");
      expect((await daemons.A.grpc.getVMStatus({ vmId: id })).state).toBe(PowerState.RUNNING);
      await until("A's migration_failed event", () => eventsOf("A", id).includes("MIGRATION_FAILED"));
      expect(eventsOf("A", id)).not.toContain("VM_MIGRATED_OUT");
      // B saw the VM come in and go again, and says so.
      await until("B's report that the incoming VM is gone", () => eventsOf("B", id).includes("VM_DELETED"));
      console.info(`events on A: ${eventsOf("A", id).join(" ")}; on B: ${eventsOf("B", id).join(" ")}`);
      expect(eventsOf("B", id)).not.toContain("VM_MIGRATED_IN");
      await expectListsMatchVirsh();
      figures.push({
        migration: "cancelled (2 GiB, 1 MiB/s)",
        "wall s": r.ms / 1000,
        "job time": `QEMU stopped after ${abortLanded.toFixed(0)} ms, job gone after ${jobGone.toFixed(0)} ms`,
        downtime: "",
        "data total": "",
        "progress msgs": r.progress.length,
      });
    },
    STEP_MS,
  );

  test(
    "offline: a stopped VM's definition moves to B",
    async () => {
      const id = await createOnA("offline", 256, false);
      const r = await migrate("A", id, { targetNodeUri: migrationUri("B"), live: false });
      console.info(`offline migration: ${phases(r).join(" ")} ${r.message ?? ""}`);
      expect(r.error).toBeUndefined();
      expect(phases(r).at(-1)).toBe("COMPLETE");
      expect(hostDomstate("A", id)).toBe("");
      expect(hostDomstate("B", id)).toBe("shut off");
      expect((await daemons.B.grpc.getVMStatus({ vmId: id })).state).toBe(PowerState.STOPPED);
      await expectListsMatchVirsh();
      jobFigures("offline, stopped VM", r);

      // libvirt copies no disks of a stopped VM: asking for it is refused before anything moves.
      const withDisk = await createOnA("offline-disk", 256, false, { disks: [{ id: "root", sizeGib: 1n, bootable: true }] });
      const refused = await migrate("A", withDisk, { targetNodeUri: migrationUri("B"), live: false, storage: true });
      console.info(`offline with storage: ${refused.error === undefined ? "OK" : Code[refused.error]}: ${refused.message}`);
      expect(refused.error).toBe(Code.FailedPrecondition);
      expect(refused.message).toContain("vda");
      expect(hostDomstate("A", withDisk)).toBe("shut off");
      expect(hostDomstate("B", withDisk)).toBe("");
    },
    STEP_MS,
  );

  test(
    "copy storage: a local disk is refused without storage, copied with it; B runs the VM on its own copy",
    async () => {
      const id = await createOnA("copy", 256, false, { disks: [{ id: "root", sizeGib: 1n, bootable: true }] });
      const status = await daemons.A.grpc.getVMStatus({ vmId: id });
      const path = status.spec?.disks[0]?.resolvedPath ?? "";
      expect(path).toStartWith(`${HOSTS_BASE}/private/`);
      // The same path names a different file on each host (each has its private folder).
      const onHost = (h: HostName) => path.replace(`${HOSTS_BASE}/private/`, `${HOSTS_BASE}/${h}/private/`);
      const qemuIo = (file: string, ...args: string[]) => Bun.spawnSync(["qemu-io", "-f", "qcow2", ...args, file], { stdout: "pipe", stderr: "pipe" });
      const written = qemuIo(onHost("A"), "-c", "write -P 0x5a 1M 1M");
      expect(written.stderr.toString()).toBe("");
      expect(written.exitCode).toBe(0);
      await daemons.A.grpc.startVM({ vmId: id });

      const refused = await migrate("A", id, { targetNodeUri: migrationUri("B"), live: true, storage: false });
      console.info(`without storage: ${refused.error === undefined ? "OK" : Code[refused.error]}: ${refused.message}`);
      expect(refused.error).toBe(Code.FailedPrecondition);
      expect(hostDomstate("A", id)).toBe("running");
      expect(hostDomstate("B", id)).toBe("");

      const r = await migrate("A", id, { targetNodeUri: migrationUri("B"), live: true, storage: true });
      console.info(`copy storage: ${phases(r).join(" ")} ${r.message ?? ""}`);
      expect(r.error).toBeUndefined();
      expect(hostDomstate("B", id)).toBe("running");
      expect(hostDomstate("A", id)).toBe("");
      // B's own image holds what A's had.
      const read = qemuIo(onHost("B"), "-U", "-r", "-c", "read -P 0x5a 1M 1M");
      expect(read.stdout.toString()).not.toContain("Pattern verification failed");
      expect(read.exitCode).toBe(0);
      expect(hostVirsh("B", "domblklist", id)).toContain(path);
      await expectListsMatchVirsh();
      jobFigures("live, copy storage (1 GiB qcow2)", r, jobInfo("B", id, true));

      // Back to A, where the old image still lies: stale data written there must not survive.
      const stale = qemuIo(onHost("A"), "-c", "write -P 0x77 8M 1M");
      expect(stale.exitCode).toBe(0);
      const back = await migrate("B", id, { targetNodeUri: migrationUri("A"), live: true, storage: true });
      console.info(`copy storage back to A: ${phases(back).join(" ")} ${back.message ?? ""}`);
      expect(back.error).toBeUndefined();
      expect(hostDomstate("A", id)).toBe("running");
      const check = (cmd: string) => qemuIo(onHost("A"), "-U", "-r", "-c", cmd).stdout.toString();
      console.info(
        `  A's image at 8M after coming back: ${check("read -P 0x77 8M 1M").includes("Pattern verification failed") ? "not the stale data" : "STALE DATA"}`,
      );
      expect(check("read -P 0x5a 1M 1M")).not.toContain("Pattern verification failed");
      expect(check("read -P 0 8M 1M")).not.toContain("Pattern verification failed");
    },
    STEP_MS,
  );

  test(
    "shared storage: a disk both hosts reach (qemu-nbd) moves without a copy",
    async () => {
      const image = `${SHARED_DIR}/lq14c-shared.qcow2`;
      expect(Bun.spawnSync(["qemu-img", "create", "-q", "-f", "qcow2", image, "256M"]).exitCode).toBe(0);
      const socket = nbdStart(image);
      const id = await createOnA("shared", 256, false);
      const disk = `<disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/><source protocol='nbd' name='disk0'><host transport='unix' socket='${socket}'/></source><target dev='vdb' bus='virtio'/></disk>`;
      await Bun.write(`${SHARED_DIR}/disk.xml`, disk);
      hostVirsh("A", "attach-device", id, `${SHARED_DIR}/disk.xml`, "--config");
      await daemons.A.grpc.startVM({ vmId: id });
      const r = await migrate("A", id, { targetNodeUri: migrationUri("B"), live: true, storage: false });
      console.info(`shared storage: ${phases(r).join(" ")} ${r.message ?? ""}`);
      expect(r.error).toBeUndefined();
      expect(hostDomstate("B", id)).toBe("running");
      expect(hostDomstate("A", id)).toBe("");
      expect(hostVirsh("B", "dumpxml", id)).toContain(`socket='${socket}'`);
      jobFigures("live, shared NBD disk", r, jobInfo("B", id, true));
      await daemons.B.grpc.forceStopVM({ vmId: id });

      // A local disk beside the shared one, with storage: only the local one is copied (the
      // shared disk is not mirrored onto itself).
      const mixed = await createOnA("mixed", 256, false, { disks: [{ id: "root", sizeGib: 1n, bootable: true }] });
      hostVirsh("A", "attach-device", mixed, `${SHARED_DIR}/disk.xml`, "--config");
      await daemons.A.grpc.startVM({ vmId: mixed });
      const m = await migrate("A", mixed, { targetNodeUri: migrationUri("B"), live: true, storage: true });
      console.info(`local + shared disk, storage: ${phases(m).join(" ")} ${m.message ?? ""}`);
      expect(m.error).toBeUndefined();
      expect(hostDomstate("B", mixed)).toBe("running");
      const done = jobInfo("B", mixed, true);
      // 1 GiB of local disk would be far more: the shared 256 MiB disk was not part of the copy.
      console.info(`  completed job on B: ${JSON.stringify(done)}`);
      expect(hostVirsh("B", "dumpxml", mixed)).toContain(`socket='${socket}'`);
      await expectListsMatchVirsh();
      jobFigures("live, local disk copied + shared NBD disk", m, done);
    },
    STEP_MS,
  );

  test(
    "a target that is down: UNAVAILABLE, and nothing changes",
    async () => {
      const id = await createOnA("down", 256, true);
      const before = { A: virshDomains("A"), B: virshDomains("B") };
      // B's libvirtd stops (its host stays up): what a node that crashed or was switched off looks like.
      const pid = Number((await Bun.file(`${HOSTS_BASE}/B/pids/libvirtd.pid`).text()).trim());
      process.kill(pid, "SIGTERM");
      await until("B's libvirtd to exit", () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
      const r = await migrate("A", id, { targetNodeUri: migrationUri("B"), live: true });
      console.info(`target down: ${r.error === undefined ? "OK" : Code[r.error]}: ${r.message} (${(r.ms / 1000).toFixed(1)} s)`);
      expect(r.error).toBe(Code.Unavailable);
      expect(r.message).toContain(HOST_ADDRESS.B);
      expect(phases(r).at(-1)).toBe("FAILED");
      expect(virshDomains("A")).toEqual(before.A);
      expect(hostDomstate("A", id)).toBe("running");
      expect((await daemons.A.grpc.getVMStatus({ vmId: id })).state).toBe(PowerState.RUNNING);
      await until("A's migration_failed event", () => eventsOf("A", id).includes("MIGRATION_FAILED"));
      expect(before.B[id]).toBeUndefined();
    },
    STEP_MS,
  );
});
