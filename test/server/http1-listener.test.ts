// The opt-in second listener (server.http1_listen_address): a daemon started with it answers
// Connect (JSON by hand and through the client) on the Bun.serve port, streams there and ends
// them on stop, while gRPC keeps working on the main port; with TLS on, the config refuses it.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { newVmId, startTestDaemon, type TestDaemon, waitFor } from "../support/daemon.ts";
import { freePort } from "../support/free-port.ts";

const SERVICE = "limiquantix.node.v1.NodeDaemonService";

let td: TestDaemon;
let http1Url: string;
let connect: Client<typeof NodeDaemonService>;
let stopped = false;

beforeAll(async () => {
  const port = await freePort();
  td = await startTestDaemon((c) => {
    c.server.http1ListenAddress = `127.0.0.1:${port}`;
    // Longer than the test may take: a stream the daemon did not end itself would hold stop().
    c.server.shutdownTimeoutSeconds = 60;
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
    name: "http1-vm",
    spec: {
      cpuSockets: 1,
      cpuCores: 1,
      cpuThreadsPerCore: 1,
      memoryMib: "512",
      disks: [{ id: "root", sizeGib: "1", format: "DISK_FORMAT_RAW" }],
    },
  });
  expect(created.status).toBe(200);
  expect(((await created.json()) as { created: boolean }).created).toBe(true);

  const status = await postJson("GetVMStatus", { vmId: id });
  expect(status.status).toBe(200);
  expect((await status.json()) as { vmId: string; state: string }).toMatchObject({ vmId: id, state: "POWER_STATE_STOPPED" });

  // The same VM through gRPC over h2c on the main port: one daemon behind both.
  expect((await td.grpc.getVMStatus({ vmId: id })).vmId).toBe(id);
  const unknown = newVmId();
  const missing = await postJson("GetVMStatus", { vmId: unknown });
  expect(missing.status).toBe(404);
  expect(await missing.json()).toEqual({ code: "not_found", message: `VM not found: ${unknown} is not defined on this node` });
});

test("the Connect client over HTTP/1.1 works on the second port, gRPC is refused there", async () => {
  expect((await connect.healthCheck({})).healthy).toBe(true);
  const id = newVmId();
  await connect.createVM({
    vmId: id,
    name: "http1-client",
    spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n },
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
  await waitFor("the stream's subscription", () => td.daemon.events.subscriberCount() === 1);
  td.daemon.events.publish({ type: "node", message: "over http/1.1" });
  expect((await first).value?.message).toBe("over http/1.1");

  const rest = (async () => {
    for (;;) {
      const next = await stream.next();
      if (next.done) return "ended";
    }
  })().catch(() => "failed");
  // Ended by the daemon: the 60 s shutdown timeout would outlast the test.
  await td.stop();
  stopped = true;
  expect(await rest).toBe("ended");
  expect(
    await fetch(`${http1Url}/${SERVICE}/HealthCheck`, { method: "POST", body: "{}" }).then(
      () => "open",
      () => "closed",
    ),
  ).toBe("closed");
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
