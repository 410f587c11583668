// The opt-in second listener (server.http1_listen_address): a daemon started with it answers
// Connect (JSON by hand and through the client) on the Bun.serve port, streams there and ends
// them on stop, while gRPC keeps working on the main port; with TLS on, the config refuses it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createServer } from "node:net";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { newVmId, startTestDaemon, type TestDaemon } from "../support/daemon.ts";

const SERVICE = "limiquantix.node.v1.NodeDaemonService";

/** A port free right now: the config refuses port 0, as operators must name a real one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port from the OS");
  return address.port;
}

let td: TestDaemon;
let http1Url: string;
let connect: Client<typeof NodeDaemonService>;
let stopped = false;

beforeAll(async () => {
  const port = await freePort();
  td = await startTestDaemon((c) => {
    c.server.http1ListenAddress = `127.0.0.1:${port}`;
  });
  http1Url = `http://127.0.0.1:${td.daemon.http1?.port}`;
  connect = createClient(NodeDaemonService, createConnectTransport({ baseUrl: http1Url, httpVersion: "1.1" }));
});

afterAll(async () => {
  if (!stopped) await td.stop();
});

async function postJson(method: string, body: unknown): Promise<Response> {
  return fetch(`${http1Url}/${SERVICE}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

test("the daemon exposes the second port, apart from the main one", () => {
  expect(td.daemon.http1?.host).toBe("127.0.0.1");
  expect(td.daemon.http1?.port).toBeGreaterThan(0);
  expect(td.daemon.http1?.port).not.toBe(td.daemon.api.port);
});

test("Connect JSON by hand: HealthCheck, CreateVM and GetVMStatus", async () => {
  const health = await postJson("HealthCheck", {});
  expect(health.status).toBe(200);
  expect(((await health.json()) as { hypervisor: string }).hypervisor).toBe("mock");

  const id = newVmId();
  const created = await postJson("CreateVM", {
    vmId: id,
    spec: {
      name: "http1-vm",
      cpu: { sockets: 1, coresPerSocket: 1, threadsPerCore: 1 },
      memory: { sizeMib: "512" },
      disks: [{ id: "root", newImage: { sizeBytes: "1073741824", format: "DISK_FORMAT_RAW" } }],
    },
  });
  expect(created.status).toBe(200);
  expect(((await created.json()) as { created: boolean }).created).toBe(true);

  const status = await postJson("GetVMStatus", { vmId: id });
  expect(status.status).toBe(200);
  expect(((await status.json()) as { vmId: string; state: string })).toMatchObject({ vmId: id, state: "VM_STATE_STOPPED" });

  // The same VM through gRPC over h2c on the main port: one daemon behind both.
  expect((await td.grpc.getVMStatus({ vmId: id })).vmId).toBe(id);
  const missing = await postJson("GetVMStatus", { vmId: newVmId() });
  expect(missing.status).toBe(404);
});

test("the Connect client over HTTP/1.1 works on the second port, gRPC is refused there", async () => {
  expect((await connect.healthCheck({})).healthy).toBe(true);
  const id = newVmId();
  await connect.createVM({
    vmId: id,
    spec: { name: "http1-client", cpu: { sockets: 1, coresPerSocket: 1, threadsPerCore: 1 }, memory: { sizeMib: 256n } },
  });
  expect((await connect.getVMStatus({ vmId: id })).vmId).toBe(id);
  const grpc = await fetch(`${http1Url}/${SERVICE}/HealthCheck`, {
    method: "POST",
    headers: { "content-type": "application/grpc" },
    body: new Uint8Array(5),
  });
  expect(grpc.status).toBe(415);
  expect((await td.grpc.healthCheck({})).healthy).toBe(true);
});

test("a server stream works on the second port and ends when the daemon stops", async () => {
  const stream = connect.streamEvents({})[Symbol.asyncIterator]();
  const first = stream.next();
  for (let i = 0; i < 100 && td.daemon.events.subscriberCount() === 0; i++) await Bun.sleep(10);
  td.daemon.events.publish({ type: "node", message: "over http/1.1" });
  expect((await first).value?.message).toBe("over http/1.1");

  const rest = (async () => {
    for (;;) {
      const next = await stream.next();
      if (next.done) return "ended";
    }
  })().catch(() => "failed");
  const t0 = performance.now();
  await td.stop();
  stopped = true;
  // Ended by the daemon, not cut by the shutdown timeout (2 s in the test daemon).
  expect(performance.now() - t0).toBeLessThan(1500);
  expect(await rest).toBe("ended");
  expect(await fetch(`${http1Url}/${SERVICE}/HealthCheck`, { method: "POST", body: "{}" }).then(() => "open", () => "closed")).toBe("closed");
});

test("with tls.enabled the config refuses the cleartext HTTP/1.1 listener", () => {
  const load = () =>
    loadConfig({
      flags: { dev: true },
      env: { LIMIQUANTIX_SERVER_HTTP1_LISTEN_ADDRESS: "127.0.0.1:9092", LIMIQUANTIX_TLS_ENABLED: "true" },
      readFile: () => undefined,
    });
  expect(load).toThrow(ConfigError);
  expect(load).toThrow("this listener serves cleartext HTTP/1.1 only (Bun.serve cannot verify client certificates, Bun issue #14097)");
});
