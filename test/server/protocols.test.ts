// The same port answers gRPC over h2c (what grpc-go sends), the Connect protocol and gRPC-Web
// over HTTP/1.1 (curl, browsers), the standard health service, and reflection for buf curl.

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/gen/grpc/health/v1/health_pb.ts";
import { equals, fromJson } from "@bufbuild/protobuf";
import { ListVMsOnNodeResponseSchema, NodeDaemonService, VMStatusResponseSchema } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { newVmId, startTestDaemon, type TestDaemon, waitFor } from "../support/daemon.ts";

const BUF = join(import.meta.dir, "..", "..", "node_modules", ".bin", "buf");
/**
 * The platform binary behind that node shim: killing the shim would leave buf itself running,
 * holding its stream and its stdout open.
 */
const BUF_BINARY = (() => {
  // @bufbuild/buf-linux-x64, buf-linux-aarch64, buf-darwin-arm64, ...
  const arch = process.platform === "linux" && process.arch === "arm64" ? "aarch64" : process.arch;
  const path = join(import.meta.dir, "..", "..", "node_modules", "@bufbuild", `buf-${process.platform}-${arch}`, "bin", "buf");
  return existsSync(path) ? path : BUF;
})();
let t: TestDaemon;

beforeAll(async () => {
  t = await startTestDaemon();
});
afterAll(() => t.stop());

async function bufCurl(args: string[]) {
  const proc = Bun.spawn([BUF, "curl", ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { out, err, code };
}

describe("protocols on one port", () => {
  test("Connect protocol: plain HTTP/1.1 POST with JSON", async () => {
    const res = await fetch(`${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/HealthCheck`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { healthy: boolean; hypervisor: string };
    expect(body.healthy).toBe(true);
    expect(body.hypervisor).toBe("mock");
  });

  test("Connect protocol: errors are JSON with the gRPC code name and a useful message", async () => {
    const id = newVmId();
    const res = await fetch(`${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/GetVMStatus`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ vmId: id }),
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("not_found");
    // The control plane reads "VM not found" in the text to learn the VM is gone from this node.
    expect(body.message).toBe(`VM not found: ${id} is not defined on this node`);
  });

  test("Connect protocol over HTTP/1.1: create a VM from JSON with enum names", async () => {
    const id = newVmId();
    const res = await fetch(`${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/CreateVM`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        vmId: id,
        name: "json-vm",
        spec: {
          cpuSockets: 1,
          cpuCores: 1,
          cpuThreadsPerCore: 1,
          memoryMib: "512",
          disks: [{ id: "root", sizeGib: "1", format: "DISK_FORMAT_RAW", bus: "DISK_BUS_SATA" }],
          firmware: "FIRMWARE_UEFI",
        },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { created: boolean; vm: { state: string; spec: { firmware: string; disks: { bus: string; format: string }[] } } };
    expect(body.created).toBe(true);
    expect(body.vm.state).toBe("POWER_STATE_STOPPED");
    expect(body.vm.spec.firmware).toBe("FIRMWARE_UEFI");
    expect(body.vm.spec.disks[0]).toMatchObject({ bus: "DISK_BUS_SATA", format: "DISK_FORMAT_RAW" });
    await t.connect.deleteVM({ vmId: id });
  });

  test("Connect protocol: a malformed body is INVALID_ARGUMENT, not a crash", async () => {
    const res = await fetch(`${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/CreateVM`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"vmId": 12, "spec": [',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("invalid_argument");
    expect((await t.grpc.healthCheck({})).healthy).toBe(true);
  });

  test("gRPC-Web over HTTP/1.1", async () => {
    const web = createClient(NodeDaemonService, createGrpcWebTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
    expect((await web.healthCheck({})).healthy).toBe(true);
  });

  test("grpc.health.v1.Health answers for the server and the node service", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: t.baseUrl }));
    expect((await health.check({ service: "" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await health.check({ service: "limiquantix.node.v1.NodeDaemonService" })).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    const err = await health.check({ service: "nope.Service" }).catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.NotFound);
    const ac = new AbortController();
    for await (const s of health.watch({ service: "" }, { signal: ac.signal })) {
      expect(s.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      break;
    }
  });

  test("large messages (> 64 KiB) pass in both directions", async () => {
    // Inbound: a 100 KB request is read whole and refused for its content, not its framing.
    const tooLong = t.grpc.createVM({
      vmId: newVmId(),
      name: "big",
      spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n, description: "d".repeat(100_000) },
    });
    const err = await tooLong.catch((e) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toContain("spec.description");
    // Outbound: a listing of 300 VMs with labels is several hundred KB.
    const labels: Record<string, string> = {};
    for (let i = 0; i < 8; i++) labels[`label-${i}`] = "v".repeat(200);
    const ids = Array.from({ length: 300 }, () => newVmId());
    for (const [i, id] of ids.entries()) {
      await t.grpc.createVM({ vmId: id, name: `bulk-${i}`, spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n }, labels });
    }
    const listed = await t.grpc.listVMs({});
    expect(listed.vms.filter((v) => v.name.startsWith("bulk-")).length).toBe(300);
    const viaJson = await fetch(`${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/ListVMs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const jsonText = await viaJson.text();
    expect(jsonText.length).toBeGreaterThan(300 * 1600);
    // Binary and JSON say the same about every (stopped, so unchanging) bulk VM.
    const fromJsonList = fromJson(ListVMsOnNodeResponseSchema, JSON.parse(jsonText));
    const byId = new Map(fromJsonList.vms.map((v) => [v.vmId, v]));
    for (const vm of listed.vms.filter((v) => v.name.startsWith("bulk-"))) expect(equals(VMStatusResponseSchema, vm, byId.get(vm.vmId)!)).toBe(true);
    await Promise.all(ids.map((vmId) => t.grpc.deleteVM({ vmId })));
  });
});

describe("buf curl (grpc-go client) with server reflection", () => {
  test("lists the services through reflection", async () => {
    const r = await bufCurl(["--http2-prior-knowledge", "--protocol", "grpc", "--list-services", t.baseUrl]);
    expect(r.err).toBe("");
    expect(r.out).toContain("limiquantix.node.v1.NodeDaemonService");
    expect(r.out).toContain("grpc.health.v1.Health");
  });

  test("calls HealthCheck over gRPC h2c with no proto files", async () => {
    const r = await bufCurl(["--http2-prior-knowledge", "--protocol", "grpc", "-d", "{}", `${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/HealthCheck`]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).healthy).toBe(true);
  });

  test("reports a gRPC error status with its code", async () => {
    const r = await bufCurl([
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "-d",
      JSON.stringify({ vmId: newVmId() }),
      `${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/StartVM`,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain("not_found");
  });

  test("streams events over gRPC until it has what it asked for", async () => {
    const proc = Bun.spawn(
      [BUF_BINARY, "curl", "--http2-prior-knowledge", "--protocol", "grpc", "-d", "{}", `${t.baseUrl}/limiquantix.node.v1.NodeDaemonService/StreamEvents`],
      { stdout: "pipe", stderr: "pipe" },
    );
    let text = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of proc.stdout) text += decoder.decode(chunk, { stream: true });
    })();
    try {
      // buf curl has subscribed once the daemon counts its stream: only then is the VM created.
      await waitFor("buf curl's StreamEvents subscription", () => t.daemon.events.subscriberCount() === 1, 10_000);
      const id = newVmId();
      await t.grpc.createVM({ vmId: id, name: "seen-by-buf", spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n } });
      await waitFor("buf curl to print the VM's event", () => text.includes(id));
      expect(text).toContain("EVENT_TYPE_VM_CREATED");
      await t.grpc.deleteVM({ vmId: id });
    } finally {
      proc.kill();
      await Promise.all([proc.exited, reading]);
    }
    // buf gone, its stream is released on the daemon too.
    await waitFor("the subscription's release", () => t.daemon.events.subscriberCount() === 0);
  });
});
