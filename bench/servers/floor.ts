// The serving floor: a bare connect-node server in the same runtime (Bun) with the same kind
// of listener as the daemon (cleartext HTTP/2 on node:http2) and trivial methods.
// - HealthCheck answers a constant message shaped like the daemon's, so both are loaded with
//   the same request and send about the same bytes back.
// - ListVMs answers bytes encoded once at start: the VMs of bench-vms.ts, as many as the
//   request's page_size (one of --list-sizes). That is the least any server must do to send an
//   answer that size, so the daemon's ListVMs is measured against it (bench/sections/scale.ts).
// Usage: bun bench/servers/floor.ts [--list-sizes 10,1000,10000]

import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { uptime } from "node:os";
import { parseArgs } from "node:util";
import {
  HealthCheckResponseSchema,
  type ListVMsOnNodeResponse,
  ListVMsOnNodeResponseSchema,
  NodeDaemonService,
} from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createMockHypervisor } from "../../src/hypervisor/mock/index.ts";
import { vmStatusToWire } from "../../src/server/convert/vm-status.ts";
import { VERSION } from "../../src/version.ts";
import { createBenchVms } from "./bench-vms.ts";
import { serveCommands } from "./commands.ts";

const { values } = parseArgs({ options: { "list-sizes": { type: "string", default: "" } } });

// The daemon's fields: the host's uptime, then its own (field 103).
const answer = create(HealthCheckResponseSchema, {
  healthy: true,
  version: VERSION,
  hypervisor: "mock",
  hypervisorVersion: "0.1.0",
  uptimeSeconds: BigInt(Math.floor(uptime())),
  daemonUptimeSeconds: 1n,
});

/** The whole answer as one `$unknown` run of bytes: serializing it is a copy. */
async function encodedListAnswer(n: number): Promise<ListVMsOnNodeResponse> {
  const hv = createMockHypervisor({});
  await createBenchVms(hv, n, 0.5);
  const vms = (await hv.listVms()).map(vmStatusToWire);
  await hv.close();
  const bytes = toBinary(ListVMsOnNodeResponseSchema, create(ListVMsOnNodeResponseSchema, { vms, totalCount: n }));
  const reader = new BinaryReader(bytes);
  const [no, wireType] = reader.tag();
  const response = create(ListVMsOnNodeResponseSchema);
  response.$unknown = [{ no, wireType, data: bytes.subarray(reader.pos) }];
  return response;
}

const listAnswers = new Map<number, ListVMsOnNodeResponse>();
for (const n of values["list-sizes"].split(",").filter(Boolean).map(Number)) listAnswers.set(n, await encodedListAnswer(n));

const handler = connectNodeAdapter({
  routes: (router) =>
    router
      .rpc(NodeDaemonService.method.healthCheck, () => answer)
      .rpc(NodeDaemonService.method.listVMs, (req) => {
        const found = listAnswers.get(req.pageSize);
        if (!found) throw new ConnectError(`no answer of ${req.pageSize} VMs; start with --list-sizes`, Code.InvalidArgument);
        return found;
      }),
});
const server = http2.createServer({}, handler);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
serveCommands({ port: (server.address() as AddressInfo).port, pid: process.pid }, {}, async () => {
  server.close();
});
