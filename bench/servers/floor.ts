// The serving floor: a bare connect-node server in the same runtime (Bun) with the same kind
// of listener as the daemon (cleartext HTTP/2 on node:http2) and one trivial unary method.
// It answers NodeDaemonService/HealthCheck with a constant message shaped like the daemon's,
// so both are loaded with the same request and send about the same bytes back.

import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { HealthCheckResponseSchema, NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { VERSION } from "../../src/version.ts";
import { serveCommands } from "./commands.ts";

const answer = create(HealthCheckResponseSchema, { healthy: true, version: VERSION, uptimeSeconds: 1n, hypervisor: "mock", hypervisorVersion: "0.1.0" });
const handler = connectNodeAdapter({
  routes: (router) => router.rpc(NodeDaemonService.method.healthCheck, () => answer),
});
const server = http2.createServer({}, handler);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
serveCommands({ port: (server.address() as AddressInfo).port, pid: process.pid }, {}, async () => {
  server.close();
});
