// The Prometheus endpoint is read-only and can stay on loopback: GET and HEAD of /metrics
// answer, every other method and path is refused, no API call reaches the backend through it,
// and bound to 127.0.0.1 it is not reachable on the host's other addresses.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import * as net from "node:net";
import { networkInterfaces } from "node:os";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { newVmId, smallVm, startHarness, type Harness } from "../reliability/harness.ts";

let h: Harness;
let metricsUrl: string;

beforeAll(async () => {
  h = await startHarness({
    tweak: (c) => {
      c.server.metricsEnabled = true;
      c.server.metricsListen = "127.0.0.1";
      c.server.metricsPort = 0; // tests only: any free port
    },
  });
  metricsUrl = `http://127.0.0.1:${h.daemon.metrics!.port}`;
});
afterAll(() => h.stop());

const nonLoopbackIpv4 = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

function tcpConnect(host: string, port: number): Promise<"connected" | string> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once("connect", () => {
      s.destroy();
      resolve("connected");
    });
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe("the metrics endpoint", () => {
  test("serves GET and HEAD of /metrics", async () => {
    const get = await fetch(`${metricsUrl}/metrics`);
    expect(get.status).toBe(200);
    expect(await get.text()).toContain("# TYPE");
    const head = await fetch(`${metricsUrl}/metrics`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  test("refuses every other method and every other path", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const res = await fetch(`${metricsUrl}/metrics`, { method, body: method === "OPTIONS" ? undefined : "{}" });
      expect(`${method} ${res.status}`).toBe(`${method} 404`);
    }
    for (const path of ["/", "/metrics/../limiquantix.node.v1.NodeDaemonService/ListVMs", "/debug/pprof", "/healthz"]) {
      expect((await fetch(`${metricsUrl}${path}`)).status).toBe(404);
    }
  });

  test("no VM-changing call gets through it, whatever the protocol", async () => {
    const id = newVmId();
    await h.grpc.createVM({ vmId: id, ...smallVm("kept") });
    const res = await fetch(`${metricsUrl}/limiquantix.node.v1.NodeDaemonService/DeleteVM`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ vmId: id, force: true }),
    });
    expect(res.status).toBe(404);
    const viaConnect = createClient(NodeDaemonService, createConnectTransport({ baseUrl: metricsUrl, httpVersion: "1.1" }));
    expect(
      await viaConnect.deleteVM({ vmId: id, force: true }).then(
        () => "deleted",
        () => "refused",
      ),
    ).toBe("refused");
    const viaGrpc = createClient(NodeDaemonService, createGrpcTransport({ baseUrl: metricsUrl }));
    expect(
      await viaGrpc.deleteVM({ vmId: id, force: true }, { timeoutMs: 2000 }).then(
        () => "deleted",
        () => "refused",
      ),
    ).toBe("refused");
    expect((await h.grpc.getVMStatus({ vmId: id })).name).toBe("kept");
  });

  test("bound to 127.0.0.1 it is not reachable on the host's other addresses", async () => {
    const port = h.daemon.metrics!.port;
    expect(await tcpConnect("127.0.0.1", port)).toBe("connected");
    if (nonLoopbackIpv4 === undefined) {
      console.warn("no non-loopback IPv4 address on this host: reachability from outside not checked");
      return;
    }
    expect(await tcpConnect(nonLoopbackIpv4, port)).toBe("ECONNREFUSED");
  });

  test("dev mode puts it on loopback by default", async () => {
    const { loadConfig } = await import("../../src/config/index.ts");
    const { config } = loadConfig({ flags: { dev: true, logLevel: "silent" }, env: {}, readFile: () => undefined });
    expect(config.server.metricsListen).toBe("127.0.0.1");
  });
});
