// The real daemon (startDaemon, as `limiquantix-node --dev` runs it) in its own process for the
// benchmarks, with its mock pre-filled with --vms N VMs. Prints `READY {"port",...}`; then
// answers stdin commands (see bench/lib/child.ts):
//   subscribers            -> OK {"count"}: StreamEvents subscriptions now open
//   publish N BATCH        -> OK {"firstId","lastId"}: N events, BATCH per macrotask
//   create N               -> OK {"created"}: N more stopped VMs
//   listing K              -> OK {"backendMs","toMessagesMs","encodeMs","vms"}: ListVMs's steps
//                             in this process, each the median of K runs
// With --backend libvirt, also the commands of libvirt-commands.ts.
// Usage: bun bench/servers/daemon.ts [--vms N] [--backend mock|libvirt] [--libvirt-uri URI] [--fetch]

import { create, toBinary } from "@bufbuild/protobuf";
import { parseArgs } from "node:util";
import { createLogger } from "../../src/common/logger.ts";
import { startDaemon } from "../../src/daemon.ts";
import { ListVMsOnNodeResponseSchema, type VMStatusResponse } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import type { Hypervisor, HypervisorEvent } from "../../src/hypervisor/types.ts";
import { vmStatusToWire } from "../../src/server/convert/vm-status.ts";
import { listenFetch } from "../../src/server/fetch-listener.ts";
import { median } from "../lib/stats.ts";
import { createBenchVms } from "./bench-vms.ts";
import { serveCommands } from "./commands.ts";
import { tempDaemonConfig } from "../../test/support/temp-config.ts";

const { values } = parseArgs({
  options: {
    vms: { type: "string", default: "0" },
    running: { type: "string", default: "0.5" },
    backend: { type: "string", default: "mock" },
    "libvirt-uri": { type: "string", default: "test:///default" },
    /** Also serve the routes on Bun.serve (src/server/fetch-listener.ts). */
    fetch: { type: "boolean", default: false },
  },
});

const { config } = tempDaemonConfig("lq-bench-", {
  dev: true,
  logLevel: "error",
  backend: values.backend,
  ...(values.backend === "libvirt" ? { libvirtUri: values["libvirt-uri"] } : {}),
});
config.server.shutdownTimeoutSeconds = 1;
const daemon = await startDaemon(config, createLogger({ level: "error", format: "text" }));

let created = 0;
async function createVms(hv: Hypervisor, n: number, runningShare: number): Promise<string[]> {
  const ids = await createBenchVms(hv, n, runningShare, created);
  created += n;
  return ids;
}

const createStarted = performance.now();
const vmIds = await createVms(daemon.hypervisor, Number(values.vms), Number(values.running));
const createS = (performance.now() - createStarted) / 1000;

/**
 * What ListVMs does, step by step, as the service does it (src/server/services/vms.ts): the
 * backend's listing, every status to a protobuf message, the answer encoded.
 */
async function listing(runs: number) {
  const backend: number[] = [];
  const toMessages: number[] = [];
  const encode: number[] = [];
  let count = 0;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const vms = await daemon.hypervisor.listVms({ labelSelector: {} });
    backend.push(performance.now() - t);
    t = performance.now();
    const messages: VMStatusResponse[] = vms.map(vmStatusToWire);
    toMessages.push(performance.now() - t);
    t = performance.now();
    toBinary(ListVMsOnNodeResponseSchema, create(ListVMsOnNodeResponseSchema, { vms: messages, totalCount: vms.length }));
    encode.push(performance.now() - t);
    count = vms.length;
  }
  return { backendMs: median(backend), toMessagesMs: median(toMessages), encodeMs: median(encode), vms: count };
}

function publishBurst(n: number, batch: number): Promise<{ firstId: number; lastId: number }> {
  const vmId = vmIds[0] ?? crypto.randomUUID();
  const event: HypervisorEvent = {
    type: "vm_state_changed",
    vmId,
    vmName: "bench-0",
    state: "running",
    previousState: "stopped",
    message: "vm bench-0 is running: booted",
  };
  const firstId = daemon.events.lastId() + 1;
  return new Promise((resolve) => {
    let left = n;
    const step = () => {
      for (let i = 0; i < batch && left > 0; i++, left--) daemon.events.publish(event);
      if (left > 0) setImmediate(step);
      else resolve({ firstId, lastId: daemon.events.lastId() });
    };
    step();
  });
}

const backendCommands = values.backend === "libvirt" ? (await import("./libvirt-commands.ts")).libvirtCommands(daemon.hypervisor, values["libvirt-uri"]) : {};

const fetchListener = values.fetch ? listenFetch(daemon.apiRoutes, { host: "127.0.0.1", port: 0, maxMessageBytes: config.server.maxMessageBytes }) : undefined;

serveCommands(
  {
    port: daemon.api.port,
    pid: process.pid,
    vmIds: vmIds.slice(0, 16),
    vmCount: vmIds.length,
    createS,
    ...(fetchListener ? { fetchPort: fetchListener.port } : {}),
  },
  {
    ...backendCommands,
    subscribers: async () => ({ count: daemon.events.subscriberCount() }),
    publish: ([n, batch]) => publishBurst(Number(n), Number(batch ?? 100)),
    create: async ([n]) => ({ created: (await createVms(daemon.hypervisor, Number(n), 0)).length }),
    listing: ([k]) => listing(Number(k ?? 3)),
  },
  async () => {
    await fetchListener?.close(500);
    await daemon.stop();
  },
);
