// "In order" for one guest (agent/call-order.ts): requests are written to the guest's channel in
// the order their calls arrived, even when the check before each write (a libvirt lookup) takes
// a different time for each; with a guest that answers in the order it reads (the double, and the
// test guest's agent for commands), call i gets reply i and the calls complete in call order.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createCallOrder } from "../../src/agent/call-order.ts";
import { agentSocketPath } from "../../src/agent/socket-path.ts";
import { createLogger } from "../../src/common/logger.ts";
import { startDaemon, type Daemon } from "../../src/daemon.ts";
import { NodeDaemonService } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { createBackend } from "../../src/hypervisor/create-backend.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";
import { newVmId, waitFor } from "../support/daemon.ts";
import { tempDaemonConfig } from "../support/temp-config.ts";
import { type GuestDouble, startGuestDouble } from "./guest-double.ts";

describe("createCallOrder", () => {
  test("turns are ready in the order taken; a turn done early does not let the next one skip ahead", async () => {
    const order = createCallOrder();
    const [a, b, c] = [order.take("vm"), order.take("vm"), order.take("vm")];
    const ready: string[] = [];
    void b.ready().then(() => ready.push("b"));
    void c.ready().then(() => ready.push("c"));
    b.done(); // b failed before writing; c must still wait for a
    await Bun.sleep(0);
    expect(ready).toEqual([]);
    await a.ready();
    a.done();
    await waitFor("c's turn", () => ready.includes("c"));
    expect(ready).toEqual(["b", "c"]);
    c.done();
    c.done();
    expect(order.size()).toBe(0);
  });

  test("keys are independent", async () => {
    const order = createCallOrder();
    const slow = order.take("vm-1");
    const other = order.take("vm-2");
    await other.ready();
    other.done();
    expect(order.size()).toBe(1);
    slow.done();
    expect(order.size()).toBe(0);
  });
});

describe("100 concurrent ExecuteInGuest calls to one guest, its VM lookups answering in random order", () => {
  let daemon: Daemon;
  let guest: GuestDouble;
  let grpc: Client<typeof NodeDaemonService>;
  const { config } = tempDaemonConfig("lq-order-");
  config.server.shutdownTimeoutSeconds = 2;
  config.agent.requestTimeoutSecs = 5;
  const id = newVmId();

  beforeAll(async () => {
    const log = createLogger({ level: "warn", format: "text" });
    const mock = await createBackend(config, log);
    // Each VM lookup (the "is it running" check before a command) answers after 0-20 ms.
    const hypervisor: Hypervisor = {
      ...mock,
      getVm: async (vmId) => {
        await Bun.sleep(Math.random() * 20);
        return mock.getVm(vmId);
      },
    };
    daemon = await startDaemon(config, log, { hypervisor });
    guest = await startGuestDouble(agentSocketPath(config.agent.socketDir, id));
    grpc = createClient(NodeDaemonService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${daemon.api.port}` }));
    await grpc.createVM({
      vmId: id,
      name: "order-vm",
      spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n, disks: [{ id: "root", sizeGib: 1n, bootable: true }], nics: [] },
      start: true,
    });
    await waitFor("the agent to connect", () => daemon.agents.connected(id));
  });

  afterAll(async () => {
    await daemon?.stop();
    await guest?.close();
  });

  test("the guest reads them in call order, call i gets reply i, and they complete in call order", async () => {
    const from = guest.received.length;
    const completed: number[] = [];
    const replies = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const r = await grpc.executeInGuest({ vmId: id, command: `echo ${i}` });
        completed.push(i);
        return r.stdout;
      }),
    );
    const all = Array.from({ length: 100 }, (_, i) => i);
    const read = guest.received.slice(from).flatMap((m) => (m.payload.case === "execute" ? [Number(m.payload.value.command.slice(5))] : []));
    expect(read).toEqual(all);
    expect(replies).toEqual(all.map((i) => `${i}\n`));
    expect(completed).toEqual(all);
    expect(daemon.agents.stats().pending).toBe(0);
  });
});
