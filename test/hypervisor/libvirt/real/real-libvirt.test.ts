// The real tier: the libvirt backend driving QEMU under libvirtd (qemu:///system), each step
// cross-checked with virsh. Needs `sudo bash scripts/setup-libvirt.sh` and LIMIQUANTIX_REAL_LIBVIRT=1.
// The guests boot no OS: ACPI shutdown cannot succeed and unplugged devices are not released by
// the guest, which is what these tests expect and report.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { withDefaults } from "../../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import type { Hypervisor, HypervisorEvent, VmSpec } from "../../../../src/hypervisor/types.ts";
import { expectKind, eventually } from "../../contract.ts";
import {
  domstate,
  median,
  REAL,
  realCpuDisabledFeatures,
  realDomainType,
  realTierStorage,
  type RealTierStorage,
  stallProbe,
  startLibvirtd,
  stopLibvirtd,
  URI,
  virsh,
  virshQuietly,
} from "./helpers.ts";
import { pairedReadTimes } from "../../../support/libvirt-reads-by-hand.ts";

const STEP_MS = 90_000;
/**
 * What is judged is structural, not a latency: a libvirt call blocking this thread would stall it
 * for the whole call (the detach blocks ~5 s, the stop waits 8 s), so a stall under half of the
 * shortest such call proves the calls ran elsewhere. The figure is printed; its 50 ms budget lives
 * in bench/ (a busy machine delays this process's own timers by hundreds of ms).
 */
const STALL_LIMIT_MS = 2500;
const domainType = realDomainType();
// Only a host CPU (kvm) takes them; under TCG the guests get the qemu64 model.
const cpuDisabledFeatures = domainType === "kvm" ? realCpuDisabledFeatures() : [];

describe.skipIf(!REAL)(`real libvirt at ${URI} (domain type ${domainType}, cpu features off: ${cpuDisabledFeatures.join(",") || "none"})`, () => {
  let hv: Hypervisor;
  const events: HypervisorEvent[] = [];
  const id = crypto.randomUUID();
  let spec: VmSpec;
  let rootPath = "";
  // Its own storage under a fresh temporary folder: nothing earlier runs left on the machine matters.
  let storage: RealTierStorage;
  const backend = () =>
    createLibvirtHypervisor({
      uri: URI,
      storagePath: storage.storagePath,
      consoleListen: "127.0.0.1",
      poolName: storage.poolName,
      domainType,
      cpuDisabledFeatures,
      stopPollMs: 100,
    });

  beforeAll(async () => {
    storage = realTierStorage("lq-real-tier-");
    hv = await backend();
    hv.onEvent((e) => events.push(e));
    spec = withDefaults({
      name: `real-tier-${id.slice(0, 8)}`,
      memoryMib: 256,
      // Under TCG there is no host CPU to pass through.
      cpu: domainType === "kvm" ? { sockets: 1, coresPerSocket: 2 } : { sockets: 1, coresPerSocket: 2, mode: "custom", model: "qemu64" },
      disks: [{ id: "root", newImage: { sizeBytes: 256 * 1024 * 1024, format: "qcow2" }, bootOrder: 1 }],
      console: { type: "vnc", password: "secret" },
      labels: { tier: "real" },
    });
  }, STEP_MS);

  afterAll(async () => {
    virshQuietly(["destroy", id], ["undefine", id, "--snapshots-metadata", "--nvram"]);
    await hv?.close();
    storage?.remove();
  }, STEP_MS);

  test(
    "create with a new qcow2 disk: libvirt has the domain and the image",
    async () => {
      const { vm, created } = await hv.createVm(id, spec);
      expect(created).toBe(true);
      expect(vm.state).toBe("stopped");
      rootPath = vm.spec.disks[0]?.resolvedPath ?? "";
      expect(rootPath.startsWith(`${storage.storagePath}/`)).toBe(true);
      expect(domstate(id)).toBe("shut off");
      expect(virsh("domblklist", id, "--details")).toContain(rootPath);
      const info = JSON.parse(Bun.spawnSync(["qemu-img", "info", "--output=json", "-U", rootPath]).stdout.toString());
      expect(info).toMatchObject({ format: "qcow2", "virtual-size": 256 * 1024 * 1024 });
      const xml = virsh("dumpxml", id);
      expect(xml).toContain("tier");
      if (domainType === "kvm") for (const f of cpuDisabledFeatures) expect(xml).toContain(`<feature policy='disable' name='${f}'/>`);
      // The spare hot-plug ports: pcie-root-port controllers beyond the ones the devices take.
      expect(xml.match(/model='pcie-root-port'/g)?.length ?? 0).toBeGreaterThanOrEqual(8);
    },
    STEP_MS,
  );

  test(
    "start, then the console port and password match libvirt's",
    async () => {
      expect((await hv.startVm(id)).state).toBe("running");
      expect(domstate(id)).toBe("running");
      const console = await hv.getConsole(id);
      expect(console).toMatchObject({ type: "vnc", host: "127.0.0.1", password: "secret" });
      const display = virsh("vncdisplay", id); // e.g. 127.0.0.1:0
      expect(console.port).toBe(5900 + Number.parseInt(display.split(":").pop() ?? "x", 10));
    },
    STEP_MS,
  );

  test(
    "pause and resume",
    async () => {
      expect((await hv.pauseVm(id)).state).toBe("paused");
      expect(domstate(id)).toBe("paused");
      expect((await hv.resumeVm(id)).state).toBe("running");
      expect(domstate(id)).toBe("running");
    },
    STEP_MS,
  );

  test(
    "snapshot with memory, a child, and revert",
    async () => {
      const s1 = await hv.createSnapshot(id, { name: "s1", includeMemory: true, quiesce: false });
      expect(s1).toMatchObject({ vmState: "running", hasMemory: true, current: true });
      await hv.pauseVm(id);
      const s2 = await hv.createSnapshot(id, { name: "s2", includeMemory: true, quiesce: false });
      expect(s2.parent).toBe("s1");
      expect(virsh("snapshot-list", id, "--name").split("\n").sort()).toEqual(["s1", "s2"]);
      expect(virsh("snapshot-parent", id, "s2")).toBe("s1");
      expect((await hv.revertSnapshot(id, "s1")).state).toBe("running");
      expect(domstate(id)).toBe("running");
      expect(virsh("snapshot-current", id, "--name")).toBe("s1");
      await hv.deleteSnapshot(id, "s2");
      expect(virsh("snapshot-list", id, "--name")).toBe("s1");
    },
    STEP_MS,
  );

  test(
    "hot-plug and unplug a disk and a NIC (live and persistent)",
    async () => {
      const disk = (diskId: string) => ({
        id: diskId,
        newImage: { sizeBytes: 64 * 1024 * 1024, format: "qcow2" as const },
        bus: "virtio" as const,
        bootOrder: 0,
        readonly: false,
        device: "disk" as const,
      });
      const withDisk = await hv.attachDisk(id, disk("data"));
      expect(withDisk.spec.disks.filter((d) => d.device === "disk").map((d) => [d.id, d.target])).toEqual([
        ["root", "vda"],
        ["data", "vdb"],
      ]);
      expect(virsh("domblklist", id)).toContain("vdb");
      expect(virsh("domblklist", id, "--inactive")).toContain("vdb");
      // libvirt blocks its call for ~5 s waiting for the guest to release the disk: meanwhile the
      // API thread and the other call Workers must keep answering.
      const probe = stallProbe();
      const detaching = hv.detachDisk(id, "data");
      const during: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        await hv.getVm(id);
        during.push(performance.now() - t);
        await Bun.sleep(100);
      }
      const withoutDisk = await detaching;
      const stall = probe.stop();
      console.info(`during a ~5 s blocking detach: worst API-thread stall ${stall.toFixed(1)} ms, worst getVm ${Math.max(...during).toFixed(1)} ms`);
      expect(stall).toBeLessThan(STALL_LIMIT_MS);
      // Stats are read with NOWAIT, so a status read does not queue behind the detach job.
      expect(Math.max(...during)).toBeLessThan(1000);
      expect(withoutDisk.spec.disks.filter((d) => d.device === "disk").map((d) => d.id)).toEqual(["root"]);
      expect(virsh("domblklist", id, "--inactive")).not.toContain("vdb");
      // With no OS the guest never acknowledges the PCI unplug: the live device may linger and
      // keep its root port. The spare PCIe root ports let the next devices in anyway, on the same
      // running VM (before them, the second hot-plug failed with "No more available PCI slots").
      console.info(`live disk list after unplug (guest has no OS): ${virsh("domblklist", id).replace(/\s+/g, " ")}`);

      const withNic = await hv.attachNic(id, { id: "eth1", bridge: "lqtestbr0", model: "virtio" });
      const mac = withNic.spec.nics.find((n) => n.id === "eth1")?.mac ?? "none";
      expect(virsh("domiflist", id)).toContain(mac);
      expect(virsh("domiflist", id, "--inactive")).toContain(mac);
      const withSecond = await hv.attachDisk(id, disk("scratch"));
      const scratch = withSecond.spec.disks.find((d) => d.id === "scratch");
      expect(scratch?.target).toMatch(/^vd[b-z]$/);
      expect(virsh("domblklist", id)).toContain(scratch?.resolvedPath ?? "none");
      expect(virsh("domblklist", id, "--inactive")).toContain(scratch?.resolvedPath ?? "none");

      await hv.detachNic(id, "eth1");
      expect(virsh("domiflist", id, "--inactive")).not.toContain(mac);
      await hv.detachDisk(id, "scratch");
      expect(virsh("domblklist", id, "--inactive")).not.toContain(scratch?.resolvedPath ?? "none");
      const after = await hv.getVm(id);
      expect(after.spec.nics.map((n) => n.id)).toEqual([]);
      expect(after.spec.disks.filter((d) => d.device === "disk").map((d) => d.id)).toEqual(["root"]);
      expect(after.state).toBe("running");
    },
    STEP_MS,
  );

  test(
    "metrics come from libvirt's bulk stats",
    async () => {
      await hv.vmMetrics([id]);
      await Bun.sleep(300);
      const [m] = await hv.vmMetrics([id]);
      expect(m).toMatchObject({ vmId: id, state: "running", vcpus: 2, memoryTotalBytes: 256 * 1024 * 1024 });
      expect(m?.cpuTimeNs ?? 0).toBeGreaterThan(0);
      expect(m?.diskReadOps ?? -1).toBeGreaterThanOrEqual(0);
      expect(virsh("dominfo", id)).toMatch(/CPU\(s\):\s+2/);
    },
    STEP_MS,
  );

  test(
    "getVm adds little latency over direct libvirt calls",
    async () => {
      const { byHand: viaFfi, backend: viaBackend } = await pairedReadTimes(hv, URI, id, 200);
      // Median of paired differences: each pair ran back to back, so slow drifts of QEMU's own
      // answer time (which dominates both) cancel out.
      const added = median(viaBackend.map((b, i) => b - (viaFfi[i] ?? 0)));
      console.info(
        `getVm median ${median(viaBackend).toFixed(3)} ms, direct ffi median ${median(viaFfi).toFixed(3)} ms, added (median of pairs) ${added.toFixed(3)} ms`,
      );
      // Printed, not judged: its budget (1 ms) lives in bench/ (the libvirt section), where it is
      // measured side by side on a quiet machine; here the machine may be busy on purpose.
      expect(viaBackend.length).toBe(200);
    },
    STEP_MS,
  );

  test(
    "a graceful stop the guest ignores times out clearly without stalling the API thread",
    async () => {
      const probe = stallProbe();
      const healthLatencies: number[] = [];
      const stop = hv.stopVm(id, 8000).then(
        () => undefined,
        (e: unknown) => e,
      );
      // HealthCheck-like work while the stop waits: health, a status read.
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        expect(hv.healthy().ok).toBe(true);
        await hv.getVm(id);
        healthLatencies.push(performance.now() - t);
        await Bun.sleep(150);
      }
      const err = await stop;
      const worstStall = probe.stop();
      expect(err).toMatchObject({ kind: "timeout" });
      expect(String((err as Error).message)).toContain("ForceStopVM");
      console.info(`graceful stop: ${(err as Error).message}`);
      console.info(`during it: worst API-thread stall ${worstStall.toFixed(1)} ms, worst health+getVm ${Math.max(...healthLatencies).toFixed(1)} ms`);
      expect(worstStall).toBeLessThan(STALL_LIMIT_MS);
      expect((await hv.forceStopVm(id)).state).toBe("stopped");
      expect(domstate(id)).toBe("shut off");
    },
    STEP_MS,
  );

  test(
    "libvirtd restarts: calls say unavailable, then the backend reconnects and events flow again",
    async () => {
      await hv.startVm(id);
      await stopLibvirtd();
      try {
        const err = await expectKind(hv.getVm(id), "unavailable");
        expect(err.message).toContain(URI);
        console.info(`while libvirtd is down: ${err.message}`);
        await eventually(() => (hv.healthy().ok ? undefined : true), "healthy() to turn false", 15_000);
        expect(hv.healthy().message).toContain(URI);
      } finally {
        await startLibvirtd();
      }
      const t0 = performance.now();
      await eventually(() => (hv.healthy().ok ? true : undefined), "reconnection", 30_000);
      console.info(`reconnected ${(performance.now() - t0).toFixed(0)} ms after libvirtd was started again`);
      expect((await hv.getVm(id)).state).toBe("running");
      const before = events.length;
      await hv.pauseVm(id);
      await eventually(
        () => (events.slice(before).some((e) => e.vmId === id && e.state === "paused") ? true : undefined),
        "pause event after reconnect",
        10_000,
      );
      await hv.resumeVm(id);
    },
    STEP_MS,
  );

  test(
    "migration to an unreachable host fails clearly and leaves the vm running here",
    async () => {
      // libvirt refuses a domain with internal snapshots, and local disks without copyStorage
      // ("unsafe"), before it even connects: rule both out so the unreachable target is the error.
      for (const s of await hv.listSnapshots(id)) await hv.deleteSnapshot(id, s.name);
      const target = "qemu+tcp://127.0.0.1:1/system";
      const phases: string[] = [];
      const err = await (async () => {
        for await (const p of hv.migrateVm(id, { targetUri: target, live: true, copyStorage: true }, new AbortController().signal)) phases.push(p.phase);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeDefined();
      console.info(`migration to ${target}: ${(err as Error).message} (phases ${phases.join(", ")})`);
      expect(String((err as Error).message)).toMatch(/127\.0\.0\.1|connect/i);
      expect(phases.at(-1)).toBe("failed");
      expect(domstate(id)).toBe("running");
      expect((await hv.getVm(id)).state).toBe("running");
    },
    STEP_MS,
  );

  test(
    "a backend started while the VM runs reports when its QEMU process started (as ps does)",
    async () => {
      // A daemon restart: this backend never saw the start.
      await hv.close();
      hv = await backend();
      hv.onEvent((e) => events.push(e));
      const status = await hv.getVm(id);
      expect(status.state).toBe("running");
      const pid = readFileSync(`/run/libvirt/qemu/${spec.name}.pid`, "utf8").trim();
      const ps = Bun.spawnSync(["ps", "-o", "etimes=", "-p", pid]).stdout.toString().trim();
      const psStart = Date.now() - Number(ps) * 1000;
      console.info(`started ${status.startedAt?.toISOString()}, ps says ${new Date(psStart).toISOString()} (pid ${pid}, up ${ps} s)`);
      // ps counts whole seconds.
      expect(Math.abs((status.startedAt?.getTime() ?? 0) - psStart)).toBeLessThan(2000);
    },
    STEP_MS,
  );

  test(
    "delete with disks removes the domain, its snapshots and its image",
    async () => {
      const { deletedDisks } = await hv.deleteVm(id, { deleteDisks: true, force: true });
      expect(deletedDisks).toEqual([rootPath]);
      expect(existsSync(rootPath)).toBe(false);
      expect(() => virsh("dominfo", id)).toThrow(/failed to get domain|not found/i);
    },
    STEP_MS,
  );
});
