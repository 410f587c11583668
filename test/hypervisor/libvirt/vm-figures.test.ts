// figuresOf (the call Worker's parser of bulk statistics) against records captured from QEMU
// (test/fixtures/libvirt-stats), and metricsOfFigures (the API thread's VmMetrics with the CPU
// sampler) on figures made by hand.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TypedValue } from "../../../src/hypervisor/libvirt/ffi/typed-params.ts";
import { createCpuSampler } from "../../../src/hypervisor/libvirt/status.ts";
import { encodeTypedParams } from "../../support/typed-param-bytes.ts";
import { figuresOf as figuresOfRecord, figuresWithSize, metricsOfFigures, type VmFigures } from "../../../src/hypervisor/libvirt/vm-figures.ts";

type StatsRecord = { uuid: string; name: string; params: Record<string, TypedValue> };
const fixture = (name: string): StatsRecord => JSON.parse(readFileSync(join(import.meta.dir, "../../fixtures/libvirt-stats", name), "utf8")) as StatsRecord;
/** A captured record as the call Worker hands it over: its parameters in libvirt's layout, in order. */
const figuresOf = (rec: StatsRecord): VmFigures => figuresOfRecord({ uuid: rec.uuid, name: rec.name, params: () => encodeTypedParams(rec.params) });

describe("figuresOf", () => {
  test("a running QEMU domain: state, CPU time, vCPUs, memory, and the disk and NIC counters summed", () => {
    expect(figuresOf(fixture("qemu-running.json"))).toEqual({
      uuid: "0b6f3f4e-8c1d-4c9a-9d53-2a4d2f0e7a11",
      name: "lq14d-capture",
      state: 1,
      reason: 1,
      cpuTimeNs: 763898000,
      vcpus: 2,
      memoryTotalKib: 98304,
      // No balloon driver in a guest without an OS: QEMU's resident size.
      memoryUsedKib: 39012,
      diskReadBytes: 0,
      diskWriteBytes: 0,
      diskReadOps: 0,
      diskWriteOps: 0,
      networkRxBytes: 90,
      networkTxBytes: 0,
      networkRxPackets: 1,
      networkTxPackets: 0,
    });
  });

  test("a stopped QEMU domain: the definition's size, and no CPU time (libvirt's is the host cgroup's)", () => {
    const f = figuresOf(fixture("qemu-shutoff.json"));
    expect(f).toMatchObject({ state: 5, reason: 2, vcpus: 2, memoryTotalKib: 98304 });
    expect(f.cpuTimeNs).toBeUndefined();
  });

  test("counters of every disk and NIC add up; the balloon driver's figures win over QEMU's resident size", () => {
    // The running capture with a second disk and NIC written in, and a guest balloon driver.
    const rec = fixture("qemu-running.json");
    Object.assign(rec.params, {
      "block.0.rd.bytes": 4096,
      "block.0.rd.reqs": 2,
      "block.1.rd.bytes": 2048,
      "block.1.rd.reqs": 1,
      "block.1.wr.bytes": 512,
      "block.1.wr.reqs": 1,
      "net.count": 2,
      "net.1.rx.bytes": 10,
      "net.1.rx.pkts": 1,
      "net.1.tx.bytes": 70,
      "net.1.tx.pkts": 1,
      "balloon.available": 90000,
      "balloon.unused": 60000,
    });
    expect(figuresOf(rec)).toMatchObject({
      diskReadBytes: 6144,
      diskReadOps: 3,
      diskWriteBytes: 512,
      diskWriteOps: 1,
      networkRxBytes: 100,
      networkRxPackets: 2,
      networkTxBytes: 70,
      networkTxPackets: 1,
      memoryUsedKib: 30000,
    });
  });

  test("libvirt's own types read in place (INT state, UINT and ULLONG counters), two-digit device indexes, strings between", () => {
    const f = figuresOfRecord({
      uuid: "u",
      name: "n",
      params: () =>
        encodeTypedParams(
          {
            "state.state": 1,
            "state.reason": 5,
            "cpu.time": 2 ** 40 + 1,
            "block.count": 11,
            "block.10.name": "vdk",
            "block.10.rd.bytes": 2 ** 33,
            "block.10.rd.times": 99,
            "net.12.tx.pkts": 3,
          },
          { "state.state": "INT", "state.reason": "INT", "block.count": "UINT", "net.12.tx.pkts": "UINT" },
        ),
    });
    expect(f).toMatchObject({ state: 1, reason: 5, cpuTimeNs: 2 ** 40 + 1, diskReadBytes: 2 ** 33, diskReadOps: 0, networkTxPackets: 3 });
  });

  test("a driver that reports only the state (the test driver): no sizes, no CPU time", () => {
    const f = figuresOf({ uuid: "u", name: "n", params: { "state.state": 1, "state.reason": 0 } });
    expect(f).toMatchObject({ state: 1, diskReadBytes: 0, networkTxBytes: 0 });
    expect([f.vcpus, f.memoryTotalKib, f.cpuTimeNs]).toEqual([undefined, undefined, undefined]);
  });
});

describe("figuresWithSize", () => {
  // A tick's statistics without the VCPU group: the running capture less its vcpu.* figures.
  const tickRecord = () => {
    const rec = fixture("qemu-running.json");
    for (const key of Object.keys(rec.params)) if (key.startsWith("vcpu.")) delete rec.params[key];
    return rec;
  };
  const sizeReader = (size: { maxMemKib: number; vcpus: number } | undefined) => {
    const reader = () => {
      reader.calls++;
      return size;
    };
    reader.calls = 0;
    return reader;
  };

  test("a size kept from this run of the domain is used as is: nothing is read", () => {
    const read = sizeReader({ maxMemKib: 1, vcpus: 1 });
    const f = figuresWithSize(figuresOf(tickRecord()), 7, { runId: 7, vcpus: 2, maxMemKib: 98304 }, read);
    expect(read.calls).toBe(0);
    expect(f).toMatchObject({ vcpus: 2, memoryTotalKib: 98304 });
    expect(f.sizeRead).toBeUndefined();
  });

  test("no size kept, or one of an earlier run (started again since): read, and carried back for keeping", () => {
    for (const known of [undefined, { runId: 6, vcpus: 1, maxMemKib: 65536 }]) {
      const read = sizeReader({ maxMemKib: 98304, vcpus: 4 });
      const f = figuresWithSize(figuresOf(tickRecord()), 7, known, read);
      expect(read.calls).toBe(1);
      expect(f).toMatchObject({ vcpus: 4, sizeRead: { runId: 7, vcpus: 4, maxMemKib: 98304 } });
    }
  });

  test("the balloon's maximum (the live memory) wins over the size's; the size fills what the statistics lack", () => {
    const f = figuresWithSize(figuresOf(tickRecord()), 7, undefined, () => ({ maxMemKib: 131072, vcpus: 2 }));
    expect(f).toMatchObject({ vcpus: 2, memoryTotalKib: 98304 });
    const bare = figuresOf({ uuid: "u", name: "n", params: { "state.state": 1, "state.reason": 0 } });
    expect(figuresWithSize(bare, 3, undefined, () => ({ maxMemKib: 262144, vcpus: 4 }))).toMatchObject({ vcpus: 4, memoryTotalKib: 262144 });
  });

  test("a size that cannot be read (the domain went away meanwhile) leaves the figures without one", () => {
    const f = figuresWithSize(figuresOf(tickRecord()), 7, undefined, () => undefined);
    expect([f.vcpus, f.sizeRead]).toEqual([undefined, undefined]);
    expect(f.memoryTotalKib).toBe(98304);
  });

  test("statistics that carry both figures (the VCPU group asked for) need no size", () => {
    const read = sizeReader({ maxMemKib: 1, vcpus: 1 });
    expect(figuresWithSize(figuresOf(fixture("qemu-running.json")), 7, undefined, read)).toMatchObject({ vcpus: 2, memoryTotalKib: 98304 });
    expect(read.calls).toBe(0);
  });
});

describe("metricsOfFigures", () => {
  const base: VmFigures = {
    uuid: "11111111-2222-4333-8444-555555555555",
    name: "vm",
    state: 1,
    reason: 1,
    cpuTimeNs: 1e9,
    vcpus: 2,
    memoryTotalKib: 1024,
    memoryUsedKib: 4096,
    diskReadBytes: 1,
    diskWriteBytes: 2,
    diskReadOps: 3,
    diskWriteOps: 4,
    networkRxBytes: 5,
    networkTxBytes: 6,
    networkRxPackets: 7,
    networkTxPackets: 8,
  };

  test("CPU percent over the vCPUs between two ticks; used memory capped at the total", () => {
    const cpu = createCpuSampler();
    const first = metricsOfFigures(base, cpu);
    expect(first).toEqual({
      vmId: base.uuid,
      name: "vm",
      state: "running",
      cpuUsagePercent: 0,
      cpuTimeNs: 1e9,
      vcpus: 2,
      memoryUsedBytes: 1024 * 1024,
      memoryTotalBytes: 1024 * 1024,
      diskReadBytes: 1,
      diskWriteBytes: 2,
      diskReadOps: 3,
      diskWriteOps: 4,
      networkRxBytes: 5,
      networkTxBytes: 6,
      networkRxPackets: 7,
      networkTxPackets: 8,
    });
    // Half a second of CPU over the next second on 2 vCPUs: 25 %.
    const sampler = { percent: (id: string, ns: number | undefined, vcpus: number) => cpu.percent(id, ns, vcpus, 2000), forget: cpu.forget };
    cpu.percent(base.uuid, 1e9, 2, 1000);
    expect(metricsOfFigures({ ...base, cpuTimeNs: 1.5e9 }, sampler).cpuUsagePercent).toBeCloseTo(25, 6);
  });

  test("a stopped VM uses no CPU and no memory, whatever libvirt said", () => {
    const m = metricsOfFigures({ ...base, state: 5, reason: 2, cpuTimeNs: undefined }, createCpuSampler());
    expect(m).toMatchObject({ state: "stopped", cpuUsagePercent: 0, cpuTimeNs: 0, memoryUsedBytes: 0, memoryTotalBytes: 1024 * 1024, vcpus: 2 });
  });
});
