// vmMetrics from one bulk statistics call (vm-figures.ts) on the real QEMU driver: every figure
// of a running VM (with a disk and a NIC) and of a stopped one agrees with `virsh domstats`.
// Counters are read by virsh just before and just after the backend, and must fall between.
// Needs LIMIQUANTIX_REAL_LIBVIRT=1.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { withDefaults } from "../../../../src/hypervisor/defaults.ts";
import { createLibvirtHypervisor } from "../../../../src/hypervisor/libvirt/index.ts";
import { RECHECK_TICKS } from "../../../../src/hypervisor/libvirt/vm-sizes.ts";
import type { Hypervisor, VmMetrics } from "../../../../src/hypervisor/types.ts";
import { REAL, realCpuDisabledFeatures, realDomainType, realNetwork, realTierStorage, type RealTierStorage, URI, virsh, virshQuietly } from "./helpers.ts";

/** `virsh domstats --raw` of one domain as name -> number (strings left out). */
function domstats(id: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of virsh("domstats", "--raw", id).split("\n")) {
    const m = /^\s*([\w.-]+)=(-?\d+)$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

const sum = (s: Record<string, number>, prefix: string, suffix: string) => {
  let total = 0;
  for (let i = 0; i < (s[`${prefix}.count`] ?? 0); i++) total += s[`${prefix}.${i}.${suffix}`] ?? 0;
  return total;
};

describe.skipIf(!REAL)(`vmMetrics from one bulk statistics call on ${URI}`, () => {
  let store: RealTierStorage;
  let hv: Hypervisor;
  const running = crypto.randomUUID();
  const stopped = crypto.randomUUID();

  beforeAll(async () => {
    store = realTierStorage("lq14d-stats-");
    hv = await createLibvirtHypervisor({
      uri: URI,
      storagePath: store.storagePath,
      consoleListen: "127.0.0.1",
      poolName: store.poolName,
      domainType: realDomainType(),
      cpuDisabledFeatures: realCpuDisabledFeatures(),
    });
  }, 60_000);

  afterAll(async () => {
    for (const id of [running, stopped]) {
      virshQuietly(["destroy", id], ["undefine", id, "--nvram"]);
    }
    await hv?.close();
    store?.remove();
  });

  test("a running VM's and a stopped VM's figures are virsh domstats' figures", async () => {
    const spec = (name: string) =>
      withDefaults({
        name,
        memoryMib: 96,
        cpu: { sockets: 1, coresPerSocket: 2 },
        disks: [{ id: "root", newImage: { sizeBytes: 16 * 1024 * 1024 }, bootOrder: 1 }],
        nics: [{ id: "eth0", network: realNetwork() }],
      });
    await hv.createVm(running, spec(`lq14d-stats-run-${running.slice(0, 6)}`));
    await hv.startVm(running);
    await hv.createVm(stopped, spec(`lq14d-stats-off-${stopped.slice(0, 6)}`));

    const before = domstats(running);
    const metrics = await hv.vmMetrics([running, stopped]);
    const after = domstats(running);
    const m = metrics.find((x) => x.vmId === running) as VmMetrics;
    const off = metrics.find((x) => x.vmId === stopped) as VmMetrics;
    console.log("bulk stats, running VM:", JSON.stringify(m));

    const between = (value: number, key: (s: Record<string, number>) => number) => {
      expect(value).toBeGreaterThanOrEqual(key(before));
      expect(value).toBeLessThanOrEqual(key(after));
    };
    expect({ state: m.state, vcpus: m.vcpus, total: m.memoryTotalBytes }).toEqual({
      state: "running",
      vcpus: after["vcpu.current"]!,
      total: after["balloon.maximum"]! * 1024,
    });
    expect(m.vcpus).toBe(2);
    between(m.cpuTimeNs, (s) => s["cpu.time"]!);
    expect(m.cpuTimeNs).toBeGreaterThan(0);
    between(m.diskReadBytes, (s) => sum(s, "block", "rd.bytes"));
    between(m.diskReadOps, (s) => sum(s, "block", "rd.reqs"));
    between(m.diskWriteBytes, (s) => sum(s, "block", "wr.bytes"));
    between(m.networkRxBytes, (s) => sum(s, "net", "rx.bytes"));
    between(m.networkTxPackets, (s) => sum(s, "net", "tx.pkts"));
    // One NIC and the disk (plus the node's CD-ROM) are there to be summed.
    expect({ nets: after["net.count"], disks: (after["block.count"] ?? 0) >= 1 }).toEqual({ nets: 1, disks: true });
    // QEMU's resident size (no balloon driver in a guest without an OS), never above the total.
    expect(m.memoryUsedBytes).toBeGreaterThan(0);
    expect(m.memoryUsedBytes).toBeLessThanOrEqual(m.memoryTotalBytes);

    const offStats = domstats(stopped);
    expect(offStats["state.state"]).toBe(5);
    expect(off).toMatchObject({
      state: "stopped",
      vcpus: offStats["vcpu.current"]!,
      memoryTotalBytes: offStats["balloon.maximum"]! * 1024,
      // libvirt 9 reports a stopped domain's cpu.time from the host's cgroup: not the VM's.
      cpuTimeNs: 0,
      cpuUsagePercent: 0,
      memoryUsedBytes: 0,
    });
  }, 120_000);

  // Ticks leave libvirt's VCPU group out (on KVM it is QEMU's query-stats, ~50 figures a vCPU):
  // the count comes from the domain's size, kept between ticks (vm-sizes.ts).
  test(`a vCPU count changed outside the daemon shows: at the first tick after a restart, within ${RECHECK_TICKS} ticks otherwise`, async () => {
    const vcpusOf = async (id: string) => (await hv.vmMetrics([id])).find((m) => m.vmId === id)?.vcpus;
    expect([await vcpusOf(running), await vcpusOf(stopped)]).toEqual([2, 2]);

    // A stopped VM redefined (no new run): read again within RECHECK_TICKS ticks.
    virsh("setvcpus", stopped, "1", "--config");
    let ticks = 0;
    let seen: number | undefined;
    while (ticks < RECHECK_TICKS && seen !== 1) {
      seen = await vcpusOf(stopped);
      ticks++;
    }
    expect({ seen, withinRecheck: ticks <= RECHECK_TICKS }).toEqual({ seen: 1, withinRecheck: true });

    // A VM stopped, redefined and started again between two ticks: a new run, read at once.
    virsh("destroy", running);
    virsh("setvcpus", running, "1", "--config");
    virsh("start", running);
    expect(await vcpusOf(running)).toBe(1);
    expect(Number(virsh("vcpucount", running, "--live", "--active").trim())).toBe(1);
  }, 120_000);
});
