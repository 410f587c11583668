// Mock-only power behaviour: ACPI shutdown timing, guests that ignore ACPI, close(), metrics.

import { afterEach, describe, expect, test } from "bun:test";
import { IGNORE_ACPI_LABEL } from "../../src/hypervisor/mock/index.ts";
import { expectKind } from "./contract.ts";
import { closeMocks, mock, create } from "./mock-helpers.ts";

afterEach(closeMocks);

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

describe("metrics", () => {
  function clocked() {
    let now = 1_700_000_000_000;
    let seed = 42;
    // A small LCG: deterministic "random" numbers.
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
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

test("pending mock timers never keep the process alive", async () => {
  const mockIndex = new URL("../../src/hypervisor/mock/index.ts", import.meta.url).pathname;
  const defaults = new URL("../../src/hypervisor/defaults.ts", import.meta.url).pathname;
  // A minute-long ACPI shutdown and migration are pending when the script's code ends.
  const script = `
    import { createMockHypervisor } from ${JSON.stringify(mockIndex)};
    import { withDefaults } from ${JSON.stringify(defaults)};
    const hv = createMockHypervisor({ acpiShutdownMs: 60000, migrationStepMs: 60000, bootMs: 0 });
    const a = crypto.randomUUID(), b = crypto.randomUUID();
    hv.createVm(a, withDefaults({ name: "a", memoryMib: 128 }))
      .then(() => hv.createVm(b, withDefaults({ name: "b", memoryMib: 128 })))
      .then(() => Promise.all([hv.startVm(a), hv.startVm(b)]))
      .then(() => {
        hv.stopVm(a, 60000).catch(() => {});
        const it = hv.migrateVm(b, { targetUri: "qemu+tcp://x.example/system", live: true, copyStorage: false }, new AbortController().signal);
        it[Symbol.asyncIterator]().next().then(() => console.log("pending"));
      });
  `;
  const started = Date.now();
  const proc = Bun.spawn([process.execPath, "--eval", script], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), 8_000);
  const code = await proc.exited;
  clearTimeout(timer);
  expect(await new Response(proc.stdout).text()).toBe("pending\n");
  expect(code).toBe(0);
  expect(Date.now() - started).toBeLessThan(8_000);
}, 15_000);
