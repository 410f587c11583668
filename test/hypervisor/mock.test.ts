// Mock-only behaviour: what libvirt's test driver cannot show (console ports, migration
// progress, ACPI timeouts, metrics) and the mock's own promises (speed, close()).

import { afterEach, describe, expect, test } from "bun:test";
import { withDefaults, type VmSpecInput } from "../../src/hypervisor/defaults.ts";
import { createMockHypervisor, IGNORE_ACPI_LABEL, type MockOptions } from "../../src/hypervisor/mock/index.ts";
import type { Hypervisor, HypervisorEvent, MigrationProgress, VmSpec } from "../../src/hypervisor/types.ts";
import { expectKind } from "./contract.ts";

const open: Hypervisor[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((hv) => hv.close()));
});

function mock(opts: MockOptions = {}): Hypervisor {
  const hv = createMockHypervisor({ acpiShutdownMs: 5, bootMs: 0, migrationStepMs: 2, ...opts });
  open.push(hv);
  return hv;
}

let n = 0;
function spec(input: Partial<VmSpecInput> = {}): VmSpec {
  n++;
  return withDefaults({
    name: `vm-${n}`,
    memoryMib: 1024,
    disks: [{ id: "root", newImage: { sizeBytes: 10 * 2 ** 30 }, bootOrder: 1 }],
    nics: [{ id: "eth0", bridge: "br0" }],
    ...input,
  });
}

async function create(hv: Hypervisor, input: Partial<VmSpecInput> = {}): Promise<string> {
  const id = crypto.randomUUID();
  await hv.createVm(id, spec(input));
  return id;
}

async function collect(it: AsyncIterable<MigrationProgress>, onFrame?: (p: MigrationProgress) => void) {
  const frames: MigrationProgress[] = [];
  let error: unknown;
  try {
    for await (const p of it) {
      frames.push(p);
      onFrame?.(p);
    }
  } catch (err) {
    error = err;
  }
  return { frames, error };
}

describe("devices", () => {
  test("new images live under the storage path; targets follow the bus", async () => {
    const hv = mock({ storagePath: "/srv/vms" });
    const id = crypto.randomUUID();
    const { vm } = await hv.createVm(
      id,
      spec({
        disks: [
          { id: "root", newImage: { sizeBytes: 1 << 30, format: "raw" }, bootOrder: 1 },
          { id: "iso", path: "/srv/iso/debian.iso", device: "cdrom" },
          { id: "old", path: "/srv/images/old.img", bus: "ide" },
          { id: "data", newImage: { sizeBytes: 1 << 30 } },
          { id: "scratch", path: "/srv/images/scratch.img", bus: "scsi" },
        ],
      }),
    );
    expect(vm.spec.disks.map((d) => [d.id, d.target, d.resolvedPath])).toEqual([
      ["root", "vda", `/srv/vms/${id}/root.raw`],
      ["iso", "sda", "/srv/iso/debian.iso"],
      ["old", "hda", "/srv/images/old.img"],
      ["data", "vdb", `/srv/vms/${id}/data.qcow2`],
      ["scratch", "sdb", "/srv/images/scratch.img"],
    ]);
    // Only the VM's own writable disks are deleted with it, never a shared ISO.
    expect((await hv.deleteVm(id, { deleteDisks: true, force: false })).deletedDisks).toEqual([
      `/srv/vms/${id}/root.raw`,
      "/srv/images/old.img",
      `/srv/vms/${id}/data.qcow2`,
      "/srv/images/scratch.img",
    ]);
  });

  test("virtio targets continue vdz -> vdaa", async () => {
    const hv = mock();
    const disks = Array.from({ length: 28 }, (_, i) => ({ id: `d${i}`, path: `/img/d${i}.qcow2` }));
    const { vm } = await hv.createVm(crypto.randomUUID(), spec({ disks }));
    expect(vm.spec.disks.slice(24).map((d) => d.target)).toEqual(["vdy", "vdz", "vdaa", "vdab"]);
  });

  test("given MACs are kept (lowercased), missing ones are generated and distinct", async () => {
    const hv = mock();
    const nics = [
      { id: "a", bridge: "br0", mac: "52:54:00:AA:BB:CC" },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, bridge: "br0" })),
    ];
    const { vm } = await hv.createVm(crypto.randomUUID(), spec({ nics }));
    expect(vm.spec.nics[0]?.mac).toBe("52:54:00:aa:bb:cc");
    expect(new Set(vm.spec.nics.map((x) => x.mac)).size).toBe(21);
  });

  test("hot-plug on a stopped vm persists; sata cannot be plugged live; paused is refused", async () => {
    const hv = mock();
    const id = await create(hv);
    const cdrom = { id: "cd", path: "/iso/x.iso", bus: "sata" as const, bootOrder: 0, readonly: true, device: "cdrom" as const };
    expect((await hv.attachDisk(id, cdrom)).spec.disks.map((d) => d.target)).toEqual(["vda", "sda"]);
    await hv.detachDisk(id, "cd");
    await hv.startVm(id);
    await expectKind(hv.attachDisk(id, cdrom), "unsupported");
    const bad = await expectKind(
      hv.attachDisk(id, { id: "x", path: "/img/x", bus: "virtio", bootOrder: 1, readonly: false, device: "disk" }),
      "invalid_argument",
    );
    expect(bad).toMatchObject({ field: "disk.boot_order" });
    await hv.pauseVm(id);
    await expectKind(hv.detachNic(id, "eth0"), "invalid_state");
  });

  test("hot-plug emits events and does not break create idempotency", async () => {
    const hv = mock();
    const events: HypervisorEvent[] = [];
    hv.onEvent((e) => events.push(e));
    const id = crypto.randomUUID();
    const s = spec();
    await hv.createVm(id, s);
    await hv.attachNic(id, { id: "eth1", network: "default", model: "e1000" });
    await hv.detachDisk(id, "root");
    expect(events.map((e) => e.type)).toEqual(["vm_created", "nic_attached", "disk_detached"]);
    expect((await hv.createVm(id, s)).created).toBe(false);
  });

  test("specs handed out are frozen, so callers cannot corrupt the mock", async () => {
    const hv = mock();
    const id = await create(hv);
    const vm = await hv.getVm(id);
    expect(() => {
      vm.spec.disks.push(vm.spec.disks[0] as VmSpec["disks"][number]);
    }).toThrow();
    expect((await hv.getVm(id)).spec.disks).toHaveLength(1);
  });
});

describe("consoles", () => {
  test("ports are allocated from the base upward and the lowest free one is reused", async () => {
    const hv = mock({ consolePortBase: 5900 });
    const ids = [await create(hv), await create(hv), await create(hv)];
    for (const id of ids) await hv.startVm(id);
    const ports = async () => Promise.all(ids.map(async (id) => (await hv.getConsole(id)).port));
    expect(await ports()).toEqual([5900, 5901, 5902]);
    await hv.forceStopVm(ids[0] as string);
    await expectKind(hv.getConsole(ids[0] as string), "invalid_state");
    await hv.pauseVm(ids[1] as string);
    expect((await hv.getConsole(ids[1] as string)).port).toBe(5901);
    await hv.startVm(ids[0] as string);
    expect(await ports()).toEqual([5900, 5901, 5902]);
  });

  test("a vm without a console says so; listen and password are reported", async () => {
    const hv = mock({ consoleHost: "10.0.0.5" });
    const none = await create(hv, { console: { type: "none" } });
    await hv.startVm(none);
    const err = await expectKind(hv.getConsole(none), "invalid_state");
    expect(err.message).toContain("console type is none");
    const wild = await create(hv, { console: { type: "spice", listen: "0.0.0.0", password: "pw" } });
    await hv.startVm(wild);
    expect(await hv.getConsole(wild)).toEqual({ type: "spice", host: "10.0.0.5", port: 5900, password: "pw" });
  });
});

describe("graceful stop", () => {
  test("running -> shutting_down -> stopped after the ACPI delay", async () => {
    const hv = mock({ acpiShutdownMs: 20 });
    const id = await create(hv);
    await hv.startVm(id);
    const stopping = hv.stopVm(id, 1000);
    await Bun.sleep(1);
    expect((await hv.getVm(id)).state).toBe("shutting_down");
    await expectKind(hv.startVm(id), "invalid_state");
    expect((await stopping).state).toBe("stopped");
  });

  test("a guest that ignores ACPI times out and keeps running", async () => {
    const hv = mock();
    const id = await create(hv, { labels: { [IGNORE_ACPI_LABEL]: "true" } });
    await hv.startVm(id);
    const started = Date.now();
    const err = await expectKind(hv.stopVm(id, 30), "timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(err.message).toContain("force stop");
    expect((await hv.getVm(id)).state).toBe("running");
    expect((await hv.forceStopVm(id)).state).toBe("stopped");
  });

  test("a slow guest times out but still powers off later", async () => {
    const hv = mock({ acpiShutdownMs: 40 });
    const id = await create(hv);
    await hv.startVm(id);
    await expectKind(hv.stopVm(id, 5), "timeout");
    expect((await hv.getVm(id)).state).toBe("shutting_down");
    await Bun.sleep(60);
    expect((await hv.getVm(id)).state).toBe("stopped");
  });

  test("force stop during a graceful stop completes the waiting stop", async () => {
    const hv = mock({ acpiShutdownMs: 10_000 });
    const id = await create(hv);
    await hv.startVm(id);
    const stopping = hv.stopVm(id, 10_000);
    await Bun.sleep(1);
    await hv.forceStopVm(id);
    expect((await stopping).state).toBe("stopped");
  });

  test("close() settles a pending stop and refuses further work", async () => {
    const hv = mock({ acpiShutdownMs: 10_000 });
    const id = await create(hv);
    await hv.startVm(id);
    const stopping = hv.stopVm(id, 10_000);
    await Bun.sleep(1);
    await hv.close();
    await expectKind(stopping, "unavailable");
    await expectKind(hv.getVm(id), "unavailable");
    expect(hv.healthy().ok).toBe(false);
  });
});

describe("migration", () => {
  const target = "qemu+tls://node-2.example/system";

  test("reports starting, rising progress, completed; then the vm is gone", async () => {
    const hv = mock();
    const events: HypervisorEvent[] = [];
    hv.onEvent((e) => events.push(e));
    const id = await create(hv);
    await hv.startVm(id);
    const seen: string[] = [];
    const { frames, error } = await collect(
      hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, new AbortController().signal),
      async () => {
        seen.push((await hv.getVm(id).catch(() => ({ state: "gone" }))).state);
      },
    );
    expect(error).toBeUndefined();
    expect(frames[0]).toMatchObject({ phase: "starting", percent: 0, dataTotalBytes: 1024 * 1024 * 1024 });
    const transfers = frames.filter((f) => f.phase === "transferring").map((f) => f.percent);
    expect(transfers.length).toBeGreaterThanOrEqual(3);
    expect(transfers).toEqual([...transfers].sort((a, b) => a - b));
    expect(frames.at(-1)).toMatchObject({ phase: "completed", percent: 100, dataRemainingBytes: 0 });
    expect(seen).toContain("migrating");
    await expectKind(hv.getVm(id), "not_found");
    expect(events.filter((e) => e.vmId === id).map((e) => e.type)).toContain("migration_completed");
  });

  test("a migrating vm refuses other lifecycle operations", async () => {
    const hv = mock({ migrationStepMs: 20 });
    const id = await create(hv);
    await hv.startVm(id);
    const it = hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, new AbortController().signal);
    const first = await it[Symbol.asyncIterator]().next();
    expect(first.value).toMatchObject({ phase: "starting" });
    for (const op of [hv.forceStopVm(id), hv.pauseVm(id), hv.deleteVm(id, { deleteDisks: false, force: true })]) {
      const err = await expectKind(op, "invalid_state");
      expect(err.message).toContain("migrating");
    }
  });

  test("an unreachable target fails with unavailable and the vm stays running", async () => {
    const hv = mock();
    const id = await create(hv);
    await hv.startVm(id);
    const { frames, error } = await collect(
      hv.migrateVm(id, { targetUri: "qemu+ssh://node-9.invalid/system", live: true, copyStorage: false }, new AbortController().signal),
    );
    expect(frames.map((f) => f.phase)).toEqual(["starting", "failed"]);
    expect(error).toMatchObject({ kind: "unavailable" });
    expect((await hv.getVm(id)).state).toBe("running");
  });

  test("aborting the signal cancels and the vm stays", async () => {
    const hv = mock();
    const id = await create(hv);
    await hv.startVm(id);
    await hv.pauseVm(id);
    const abort = new AbortController();
    const { frames, error } = await collect(
      hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, abort.signal),
      (p) => {
        if (p.phase === "transferring") abort.abort();
      },
    );
    expect(frames.at(-1)?.phase).toBe("cancelled");
    expect(error).toMatchObject({ kind: "cancelled" });
    expect((await hv.getVm(id)).state).toBe("paused");
  });

  test("a consumer that stops listening cancels the migration", async () => {
    const hv = mock();
    const id = await create(hv);
    await hv.startVm(id);
    for await (const p of hv.migrateVm(id, { targetUri: target, live: true, copyStorage: false }, new AbortController().signal)) {
      if (p.phase === "transferring") break;
    }
    expect((await hv.getVm(id)).state).toBe("running");
  });

  test("offline migration moves a stopped vm; a running one needs live", async () => {
    const hv = mock();
    const id = await create(hv);
    const { frames } = await collect(hv.migrateVm(id, { targetUri: target, live: false, copyStorage: true }, new AbortController().signal));
    expect(frames.at(-1)?.phase).toBe("completed");
    expect(frames[0]?.dataTotalBytes).toBe(16 * 1024 + 10 * 2 ** 30);
    const other = await create(hv);
    await hv.startVm(other);
    const { error } = await collect(hv.migrateVm(other, { targetUri: target, live: false, copyStorage: false }, new AbortController().signal));
    expect(error).toMatchObject({ kind: "invalid_state" });
    const { error: badUri } = await collect(hv.migrateVm(other, { targetUri: "http://x", live: true, copyStorage: false }, new AbortController().signal));
    expect(badUri).toMatchObject({ kind: "invalid_argument", field: "target_uri" });
  });
});

describe("metrics", () => {
  function clocked() {
    let now = 1_700_000_000_000;
    let seed = 42;
    // A small LCG: deterministic "random" numbers.
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const hv = mock({ clock: () => now, random });
    return { hv, tick: (ms: number) => (now += ms) };
  }

  test("counters grow monotonically while running, freeze while paused, reset on restart", async () => {
    const { hv, tick } = clocked();
    const id = await create(hv, { cpu: { sockets: 2 } });
    const off = (await hv.vmMetrics([id]))[0];
    expect(off).toMatchObject({ cpuTimeNs: 0, cpuUsagePercent: 0, memoryUsedBytes: 0, vcpus: 2 });
    await hv.startVm(id);
    const samples = [];
    for (let i = 0; i < 50; i++) {
      tick(1000);
      samples.push((await hv.vmMetrics([id]))[0]);
    }
    const keys = ["cpuTimeNs", "diskReadBytes", "diskWriteBytes", "diskReadOps", "networkRxBytes", "networkTxPackets"] as const;
    for (let i = 1; i < samples.length; i++) {
      for (const k of keys) expect(samples[i]?.[k]).toBeGreaterThan(samples[i - 1]?.[k] ?? Infinity);
      const cpu = samples[i]?.cpuUsagePercent ?? -1;
      expect(cpu).toBeGreaterThan(0);
      expect(cpu).toBeLessThanOrEqual(100);
      // Smooth: no jump bigger than the walk allows in one second.
      expect(Math.abs(cpu - (samples[i - 1]?.cpuUsagePercent ?? 0))).toBeLessThan(15);
    }
    expect(new Set(samples.map((s) => s?.cpuUsagePercent)).size).toBeGreaterThan(40);
    const used = samples.at(-1)?.memoryUsedBytes ?? 0;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(1024 * 1024 * 1024);

    await hv.pauseVm(id);
    const paused = (await hv.vmMetrics([id]))[0];
    tick(5000);
    expect((await hv.vmMetrics([id]))[0]).toMatchObject({ cpuUsagePercent: 0, cpuTimeNs: paused?.cpuTimeNs });
    await hv.forceStopVm(id);
    await hv.startVm(id);
    tick(1000);
    expect((await hv.vmMetrics([id]))[0]?.cpuTimeNs).toBeLessThan(paused?.cpuTimeNs ?? 0);
  });

  test("getVm usage agrees with vmMetrics", async () => {
    const { hv, tick } = clocked();
    const id = await create(hv);
    await hv.startVm(id);
    tick(3000);
    const m = (await hv.vmMetrics())[0];
    const u = (await hv.getVm(id)).usage;
    expect(u).toMatchObject({ cpuTimeNs: m?.cpuTimeNs, networkRxBytes: m?.networkRxBytes, memoryTotalBytes: 1024 * 1024 * 1024 });
  });
});

describe("scale", () => {
  test("10,000 vms list in well under 50 ms", async () => {
    const hv = mock();
    const base = spec();
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        hv.createVm(crypto.randomUUID(), { ...base, name: `scale-${i}`, labels: { tier: i % 2 ? "web" : "db" } }),
      ),
    );
    await hv.listVms(); // warm-up
    const started = performance.now();
    const all = await hv.listVms();
    const elapsed = performance.now() - started;
    expect(all).toHaveLength(10_000);
    expect(elapsed).toBeLessThan(50);
    expect(await hv.listVms({ labelSelector: { tier: "web" } })).toHaveLength(5_000);
  });
});
