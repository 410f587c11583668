// The registrar against an in-test control plane on 127.0.0.1 (harness.ts): registration,
// heartbeats, faults and recovery. VM reporting is in registrar-vms.test.ts.
import { describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FakeControlPlane, Fault } from "./fake-control-plane.ts";
import { useRegistrarHarness } from "./harness.ts";
import { waitFor } from "./helpers.ts";

const h = useRegistrarHarness();
const { plane, registrar } = h;

const heartbeats = (cp: FakeControlPlane) => cp.calls.filter((c) => c.method === "UpdateHeartbeat");
const registers = (cp: FakeControlPlane) => cp.calls.filter((c) => c.method === "RegisterNode");

describe("registrar", () => {
  test("first registration sends the right fields, stores the id, then heartbeats with figures", async () => {
    const cp = await plane();
    const { r, logger } = registrar(cp);
    r.start();
    await waitFor("a heartbeat answered", () => r.status().lastHeartbeatAt !== undefined);
    const reg = registers(cp)[0];
    if (reg?.method !== "RegisterNode") throw new Error("no RegisterNode recorded");
    expect(reg.contentType).toBe("application/proto");
    expect(reg.request.hostname).toBe("hv-test-01");
    expect(reg.request.managementIp).toBe("192.168.1.10:9090");
    expect(reg.request.labels).toEqual({ zone: "a" });
    expect(reg.request.role?.compute).toBe(true);
    expect(reg.request.cpuInfo?.totalThreads).toBe(32);
    expect(reg.request.memoryInfo?.hugePages?.pages1gbTotal).toBe(4n);

    const id = cp.nodes.get("hv-test-01")?.id;
    expect(id).toBeDefined();
    expect(r.status()).toMatchObject({ registered: true, phase: "registered", nodeId: id, intervalSecs: 2 });
    expect(r.status().lastHeartbeatAt).toBeInstanceOf(Date);
    expect(r.status().managementEndpoint).toBe("192.168.1.10:9090");
    expect((await readFile(join(h.stateDir(), "node-id"), "utf8")).trim()).toBe(id!);
    const hb = heartbeats(cp)[0];
    if (hb?.method !== "UpdateHeartbeat") throw new Error("no heartbeat recorded");
    expect(hb.request).toMatchObject({ nodeId: id, memoryUsedMib: 8192n, runningVmCount: 3, load15m: 0.125 });
    expect(logger.count(/registered with control plane .* as node /)).toBe(1);
  });

  test("configured hostname and management IP win; the port may be given once listening", async () => {
    const cp = await plane();
    let port = 0;
    const { r } = registrar(cp, { hostname: "hv-configured", managementIp: "10.0.0.9", grpcPort: () => port });
    port = 7443;
    r.start();
    await waitFor("registered", () => r.status().registered);
    expect(registers(cp)[0]?.request).toMatchObject({ hostname: "hv-configured", managementIp: "10.0.0.9:7443" });
    expect(r.status().managementEndpoint).toBe("10.0.0.9:7443");
  });

  test("the JSON encoding is accepted by the fake as well", async () => {
    const cp = await plane();
    const { r } = registrar(cp, { encoding: "json" });
    r.start();
    await waitFor("a heartbeat", () => heartbeats(cp).length >= 1);
    expect([...new Set(cp.calls.map((c) => c.contentType))]).toEqual(["application/json"]);
    const hb = heartbeats(cp)[0];
    if (hb?.method !== "UpdateHeartbeat") throw new Error("no heartbeat recorded");
    // 64-bit fields travel as JSON strings and come back as the same numbers.
    expect(hb.request).toMatchObject({ memoryTotalMib: 65536n, diskTotalBytes: 2_000_000_000_000n, cpuUsagePercent: 12.5 });
  });

  test("heartbeats at the configured interval, then at the interval the control plane sends", async () => {
    const cp = await plane();
    const { r, logger } = registrar(cp, { heartbeatIntervalSecs: 2 }); // 100 ms
    r.start();
    await waitFor("4 heartbeats", () => heartbeats(cp).length >= 4);
    const gaps = (list: { at: number }[]) => list.slice(1).map((c, i) => c.at - list[i]!.at);
    for (const gap of gaps(heartbeats(cp).slice(0, 4))) {
      expect(gap).toBeGreaterThanOrEqual(90);
      expect(gap).toBeLessThan(170);
    }
    cp.setHeartbeatIntervalSecs(5); // 250 ms
    const before = heartbeats(cp).length;
    await waitFor("3 more heartbeats", () => heartbeats(cp).length >= before + 3, 2000);
    const later = heartbeats(cp).slice(before);
    // The first of these may still be on the old schedule; the ones after follow the new one.
    for (const gap of gaps(later).slice(1)) {
      expect(gap).toBeGreaterThanOrEqual(240);
      expect(gap).toBeLessThan(330);
    }
    expect(r.status().intervalSecs).toBe(5);
    expect(logger.count(/heartbeat interval changed from 2 s to 5 s/)).toBe(1);
  });

  for (const fault of ["http500", "drop", "slow", "down"] as const) {
    test(`control plane ${fault}: 3 heartbeat failures, registers again, logs each change once`, async () => {
      const cp = await plane({ slowMs: 400 });
      const { r, logger } = registrar(cp, { callTimeoutMs: 120 });
      r.start();
      await waitFor("registered", () => heartbeats(cp).length >= 1);
      const faultAt = performance.now();
      if (fault === "down") await cp.down();
      else cp.setFault(fault as Fault);
      await waitFor("retrying", () => r.status().phase === "retrying");
      expect(r.status().registered).toBe(false);
      expect(r.status().lastError).toBeDefined();
      if (fault !== "down") {
        // What reached the server while it failed: 3 heartbeats, then registration attempts.
        await waitFor("a register attempt", () => cp.attempts.some((a) => a.at > faultAt && a.path.endsWith("/RegisterNode")), 3000);
        const paths = cp.attempts.filter((a) => a.at > faultAt).map((a) => a.path.split("/").pop());
        expect(paths.slice(0, 4)).toEqual(["UpdateHeartbeat", "UpdateHeartbeat", "UpdateHeartbeat", "RegisterNode"]);
      } else {
        const failedRegister = () => logger.lines.some((l) => l.level === "debug" && /\(RegisterNode\)/.test(l.message));
        await waitFor("a failed register attempt", failedRegister);
      }
      const registersBefore = registers(cp).length;
      if (fault === "down") await cp.up();
      else cp.setFault("none");
      await waitFor("registered again", () => r.status().registered, 3000);
      await waitFor("a heartbeat after recovery", () => heartbeats(cp).some((h) => h.at > performance.now() - 200));
      expect(registers(cp).length).toBe(registersBefore + 1);
      expect(logger.count(/control plane unreachable/)).toBe(1);
      expect(logger.count(/registered again as node /)).toBe(1);
      expect(r.status().nodeId).toBe(cp.nodes.get("hv-test-01")!.id);
    });
  }

  test("a single failed heartbeat resumes without registering again", async () => {
    const cp = await plane();
    const { r, logger } = registrar(cp, { backoff: { initialMs: 200, maxMs: 200 } });
    r.start();
    await waitFor("registered", () => heartbeats(cp).length >= 1);
    cp.setFault("http500");
    await waitFor("retrying", () => r.status().phase === "retrying");
    cp.setFault("none");
    await waitFor("registered", () => r.status().registered);
    expect(registers(cp).length).toBe(1);
    expect(logger.count(/control plane unreachable: HTTP 500/)).toBe(1);
    expect(logger.count(/heartbeats resumed/)).toBe(1);
  });

  test("a control plane that forgot the node (NotFound) gets a new registration at once", async () => {
    const cp = await plane();
    const { r, logger } = registrar(cp);
    r.start();
    await waitFor("registered", () => heartbeats(cp).length >= 1);
    const oldId = r.status().nodeId;
    cp.forgetNodes();
    await waitFor("a second registration", () => registers(cp).length >= 2);
    await waitFor("registered", () => r.status().registered && r.status().nodeId !== oldId);
    expect(logger.count(/does not know node/)).toBe(1);
    expect(logger.count(/adopting it/)).toBe(1);
    expect((await readFile(join(h.stateDir(), "node-id"), "utf8")).trim()).toBe(r.status().nodeId!);
  });

  test("registration backoff grows and is capped (injected sleep and random)", async () => {
    const cp = await plane();
    await cp.down();
    const waits: number[] = [];
    const { r, logger } = registrar(cp, {
      backoff: { initialMs: 1000, maxMs: 60_000 },
      random: () => 1,
      sleep: async (ms) => {
        waits.push(ms);
        await Bun.sleep(1);
      },
    });
    r.start();
    await waitFor("9 retries", () => waits.length >= 10);
    await r.stop();
    expect(waits.slice(0, 10)).toEqual([0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(logger.count(/control plane unreachable/)).toBe(1);
    expect(r.status()).toMatchObject({ phase: "idle", registered: false });
  });

  test("identity is kept across a restart; a different id from the control plane is adopted once", async () => {
    const cp = await plane();
    const first = registrar(cp);
    first.r.start();
    await waitFor("registered", () => heartbeats(cp).length >= 1);
    const id = first.r.status().nodeId!;
    await first.r.stop();

    // Same control plane: the restarted daemon keeps the id and is not told otherwise.
    const second = registrar(cp);
    cp.setFault("slow");
    second.r.start();
    await waitFor("stored id loaded", () => second.r.status().nodeId === id, 1000);
    expect(second.r.status().registered).toBe(false);
    cp.setFault("none");
    await waitFor("registered", () => second.r.status().registered, 3000);
    expect(second.r.status().nodeId).toBe(id);
    expect(second.logger.count(/adopting/)).toBe(0);
    await second.r.stop();

    // A control plane that assigns another id: adopt it, say so once, store it.
    const other = await plane();
    const third = registrar(other);
    third.r.start();
    await waitFor("registered", () => heartbeats(other).length >= 1);
    const newId = third.r.status().nodeId!;
    expect(newId).not.toBe(id);
    const hb = heartbeats(other)[0];
    expect(hb?.request.nodeId).toBe(newId);
    expect(third.logger.count(new RegExp(`assigned node id ${newId} \\(was ${id}\\); adopting it`))).toBe(1);
    expect((await readFile(join(h.stateDir(), "node-id"), "utf8")).trim()).toBe(newId);
  });

  test("stop() ends an in-flight call and every timer promptly; nothing is called after", async () => {
    const cp = await plane({ slowMs: 5000 });
    cp.setFault("slow");
    const { r } = registrar(cp, { callTimeoutMs: 10_000 });
    r.start();
    await waitFor("a call in flight", () => cp.attempts.length >= 1);
    const t0 = performance.now();
    await r.stop();
    expect(performance.now() - t0).toBeLessThan(100);
    expect(r.status().phase).toBe("idle");
    cp.setFault("none");
    const attempts = cp.attempts.length;
    await Bun.sleep(150);
    expect(cp.attempts.length).toBe(attempts);
  });

  test("a bad address is a configuration error at once; an unreadable CA file disables registration", async () => {
    const cp = await plane();
    expect(() => registrar(cp, { address: "grpc://127.0.0.1:1" })).toThrow(/http:\/\/ or https:\/\//);
    const { r, logger } = registrar(cp, { address: cp.url.replace("http:", "https:"), caFile: join(h.stateDir(), "none.pem") });
    r.start();
    await waitFor("stopped", () => r.status().phase === "idle");
    expect(r.status().lastError).toMatch(/none\.pem/);
    expect(logger.count(/registration disabled/)).toBe(1);
  });
});
