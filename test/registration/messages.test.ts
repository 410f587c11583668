import { describe, expect, test } from "bun:test";
import { buildHeartbeatRequest, buildRegisterRequest } from "../../src/registration/messages.ts";
import { describeRegistration } from "../../src/registration/describe.ts";
import { clampIntervalSecs } from "../../src/registration/registrar.ts";
import { figuresFixture, identityFixture } from "./helpers.ts";

describe("buildRegisterRequest", () => {
  test("carries hostname, endpoint, labels, compute role, CPU and memory incl. huge pages", () => {
    const req = buildRegisterRequest({
      identity: identityFixture,
      managementEndpoint: "192.168.1.10:9090",
      labels: { rack: "r1" },
    });
    expect(req.hostname).toBe("hv-test-01");
    expect(req.managementIp).toBe("192.168.1.10:9090");
    expect(req.labels).toEqual({ rack: "r1" });
    expect(req.role).toMatchObject({ compute: true, storage: false, controlPlane: false });
    expect(req.cpuInfo).toMatchObject({
      model: "AMD EPYC 7302P 16-Core Processor",
      sockets: 1,
      coresPerSocket: 16,
      threadsPerCore: 2,
      totalThreads: 32,
      frequencyMhz: 3000n,
      features: ["fpu", "vme", "svm", "avx2"],
    });
    expect(req.memoryInfo?.totalBytes).toBe(134_217_728_000n);
    expect(req.memoryInfo?.allocatableBytes).toBe(120_000_000_000n);
    expect(req.memoryInfo?.hugePages).toMatchObject({
      pages2mbTotal: 1024n,
      pages2mbFree: 512n,
      pages1gbTotal: 4n,
      pages1gbFree: 2n,
    });
  });
});

describe("buildHeartbeatRequest", () => {
  test("converts memory to whole MiB and keeps the other figures", () => {
    const req = buildHeartbeatRequest("node-1", figuresFixture, { stateHash: "e3b0c44298fc1c14", storagePools: [] });
    expect(req).toMatchObject({
      nodeId: "node-1",
      cpuUsagePercent: 12.5,
      memoryUsedMib: 8192n,
      memoryTotalMib: 65536n,
      runningVmCount: 3,
      diskUsedBytes: 500_000_000_000n,
      diskTotalBytes: 2_000_000_000_000n,
      load1m: 0.5,
      load5m: 0.25,
      load15m: 0.125,
    });
  });
  test("absent, negative or non-finite figures go on the wire as proto3's 0; CPU is clamped to 100", () => {
    const req = buildHeartbeatRequest(
      "n",
      {
        cpuUsagePercent: 180,
        memoryUsedBytes: -5,
        diskUsedBytes: Number.NaN,
        load1: Number.POSITIVE_INFINITY,
      },
      { stateHash: "", storagePools: [] },
    );
    expect(req.cpuUsagePercent).toBe(100);
    expect(req.memoryUsedMib).toBe(0n);
    expect(req.memoryTotalMib).toBe(0n);
    expect(req.diskUsedBytes).toBe(0n);
    expect(req.load1m).toBe(0);
    expect(req.runningVmCount).toBe(0);
  });
});

describe("clampIntervalSecs", () => {
  test("keeps the interval within 1..3600 s", () => {
    expect([0, 1, 30, 3600, 7200, -4, 2.6].map(clampIntervalSecs)).toEqual([1, 1, 30, 3600, 3600, 1, 3]);
  });
});

describe("describeRegistration", () => {
  test("says whether and as what the node is registered", () => {
    expect(describeRegistration(undefined)).toBe("registration disabled");
    expect(
      describeRegistration({
        registered: true,
        phase: "registered",
        nodeId: "abc",
        intervalSecs: 30,
        lastHeartbeatAt: new Date("2026-01-02T03:04:05Z"),
      }),
    ).toBe("registered as node abc; last heartbeat 2026-01-02T03:04:05.000Z; heartbeat every 30 s");
    expect(describeRegistration({ registered: false, phase: "retrying", lastError: "connect ECONNREFUSED", intervalSecs: 30 })).toBe(
      "control plane unreachable: connect ECONNREFUSED; retrying",
    );
    expect(describeRegistration({ registered: false, phase: "registering", intervalSecs: 30 })).toBe("registering with control plane");
  });
});
