// The daemon's heartbeat through the real API: its running count follows VMs started and stopped
// over the API, and no heartbeat asks the hypervisor for VM statistics (a bulk libvirt call on a
// real host) only to count running VMs.

import { expect, test } from "bun:test";
import { createMockHypervisor } from "../../src/hypervisor/mock/index.ts";
import { newVmId, startTestDaemon, waitFor } from "../support/daemon.ts";
import { startFakeControlPlane } from "./fake-control-plane.ts";

test("heartbeats report the running count from events, without a VM statistics call", async () => {
  const cp = await startFakeControlPlane();
  const mock = createMockHypervisor();
  let vmMetricsCalls = 0;
  const vmMetrics = mock.vmMetrics.bind(mock);
  mock.vmMetrics = (ids) => {
    vmMetricsCalls++;
    return vmMetrics(ids);
  };
  const { grpc, stop } = await startTestDaemon(
    (c) => {
      c.controlPlane.registrationEnabled = true;
      c.controlPlane.address = cp.url;
      c.controlPlane.heartbeatIntervalSecs = 1;
    },
    { hypervisor: mock },
  ).catch(async (err: unknown) => {
    await cp.close();
    throw err;
  });
  try {
    const lastCount = () => cp.callsTo("UpdateHeartbeat").at(-1)?.request.runningVmCount;
    await waitFor("a first heartbeat", () => lastCount() !== undefined, 10_000);
    expect(lastCount()).toBe(0);
    const id = newVmId();
    await grpc.createVM({ vmId: id, name: "counted", start: true, spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n } });
    await waitFor("a heartbeat counting the started VM", () => lastCount() === 1, 10_000);
    await grpc.forceStopVM({ vmId: id });
    await waitFor("a heartbeat counting none again", () => lastCount() === 0, 10_000);
    console.log(`heartbeats: ${cp.callsTo("UpdateHeartbeat").length}, vmMetrics calls: ${vmMetricsCalls}`);
    expect(vmMetricsCalls).toBe(0);
  } finally {
    await stop();
    await cp.close();
  }
}, 30_000);
