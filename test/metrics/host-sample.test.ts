// The host alone for readers that need no VM figures (the heartbeat): no VM statistics call, and
// a recent sample of either kind is reused instead of reading the host again.

import { expect, test } from "bun:test";
import type { VmMetrics } from "../../src/hypervisor/types.ts";
import { createMetricsHub } from "../../src/metrics/metrics-hub.ts";
import type { HostSample, Telemetry } from "../../src/telemetry/types.ts";

function setup() {
  let clock = 0;
  let hostReads = 0;
  let vmReads = 0;
  const telemetry = {
    sample: async (): Promise<HostSample> => {
      hostReads++;
      return { timestamp: new Date(), filesystems: [], sources: [] };
    },
  } as unknown as Telemetry;
  const hub = createMetricsHub({
    telemetry,
    hypervisor: {
      vmMetrics: async (): Promise<VmMetrics[]> => {
        vmReads++;
        return [];
      },
    },
    now: () => clock,
  });
  return { hub, advance: (ms: number) => (clock += ms), hostReads: () => hostReads, vmReads: () => vmReads };
}

test("hostSample reads the host only, never the VMs", async () => {
  const t = setup();
  await t.hub.hostSample(5000);
  expect(t.hostReads()).toBe(1);
  expect(t.vmReads()).toBe(0);
});

test("hostSample reuses a sample younger than maxAgeMs, its own or a full tick's", async () => {
  const t = setup();
  const first = await t.hub.hostSample(5000);
  t.advance(4000);
  expect(await t.hub.hostSample(5000)).toBe(first);
  expect(t.hostReads()).toBe(1);
  t.advance(2000);
  await t.hub.hostSample(5000);
  expect(t.hostReads()).toBe(2);

  const tick = await t.hub.sampleNow();
  expect(t.vmReads()).toBe(1);
  t.advance(1000);
  expect(await t.hub.hostSample(5000)).toBe(tick.host);
  expect(t.hostReads()).toBe(3);
  expect(t.hub.readCount()).toBe(3);
});
