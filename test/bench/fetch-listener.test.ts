// The optional Bun.serve serving path (src/server/fetch-listener.ts) with the daemon's real
// routes: Connect and gRPC-Web over HTTP/1.1 work, including a server stream; gRPC, which needs
// trailers Bun.serve cannot send, is refused; the listener closes.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { type FetchListener, listenFetch } from "../../src/server/fetch-listener.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";

let td: TestDaemon;
let listener: FetchListener;
let baseUrl: string;
let connect: Client<typeof NodeDaemonService>;

beforeAll(async () => {
  td = await startTestDaemon();
  listener = listenFetch(td.daemon.apiRoutes, { host: "127.0.0.1", port: 0 });
  baseUrl = `http://127.0.0.1:${listener.port}`;
  connect = createClient(NodeDaemonService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
});

afterAll(async () => {
  await listener.close(500);
  await td.stop();
});

test("Connect (binary and JSON) and gRPC-Web over HTTP/1.1 reach the daemon's handlers", async () => {
  expect((await connect.healthCheck({})).healthy).toBe(true);
  const json = createClient(NodeDaemonService, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }));
  expect((await json.listVMs({})).totalCount).toBe(0);
  const web = createClient(NodeDaemonService, createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }));
  expect((await web.healthCheck({})).hypervisor).toBe("mock");
});

test("errors keep their gRPC code through the interceptors", async () => {
  const err = await connect.getVMStatus({ vmId: crypto.randomUUID() }).catch((e: unknown) => ConnectError.from(e));
  expect(err).toBeInstanceOf(ConnectError);
  expect((err as ConnectError).code).toBe(Code.NotFound);
});

test("a server stream delivers events as they are published", async () => {
  const ac = new AbortController();
  const stream = connect.streamEvents({}, { signal: ac.signal })[Symbol.asyncIterator]();
  const first = stream.next();
  for (let i = 0; i < 50 && td.daemon.events.subscriberCount() === 0; i++) await Bun.sleep(10);
  td.daemon.events.publish({ type: "node", message: "fetch listener test" });
  const got = await first;
  expect(got.value?.message).toBe("fetch listener test");
  ac.abort();
});

test("gRPC proper is refused (no trailers on Bun.serve), unknown paths are 404", async () => {
  const grpc = await fetch(`${baseUrl}/limiquantix.node.v1.NodeDaemonService/HealthCheck`, {
    method: "POST",
    headers: { "content-type": "application/grpc" },
    body: new Uint8Array(5),
  });
  expect(grpc.status).toBe(415);
  expect((await fetch(`${baseUrl}/nope`, { method: "POST" })).status).toBe(404);
});
