// The VM reporter against an in-memory control plane (createRouterTransport): the bounded queue
// of notifications while the control plane does not answer them.
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { NodeService, VMChangeAckSchema, type VMChangeNotification } from "../../src/gen/limiquantix/compute/v1/node_service_pb.ts";
import { createVmReporter } from "../../src/registration/vm-reporter.ts";
import { fakeVms, figuresFixture, identityFixture, recordingLogger, waitFor } from "./helpers.ts";

describe("VM reporter", () => {
  test("beyond the limit the oldest changes are dropped, said once; the newest go out when the control plane answers", async () => {
    let answering = false;
    const received: VMChangeNotification[] = [];
    const transport = createRouterTransport(({ service }) =>
      // SyncFullState and the rest answer "unimplemented", as the control plane at HEAD.
      service(NodeService, {
        notifyVMChange(request) {
          if (!answering) throw new ConnectError("overloaded", Code.Unavailable);
          received.push(request);
          return create(VMChangeAckSchema, { acknowledged: true, action: "created" });
        },
      }),
    );
    const ctl = new AbortController();
    const link = { client: createClient(NodeService, transport), nodeId: "node-1", signal: ctl.signal };
    const vms = fakeVms();
    const log = recordingLogger();
    const reporter = createVmReporter({
      vms: vms.source,
      log,
      now: () => new Date(),
      hostInfo: async () => ({ identity: identityFixture, figures: figuresFixture, managementEndpoint: "" }),
      storagePools: () => [],
      callTimeoutMs: 1000,
      queueLimit: 2,
    });
    reporter.start();
    await reporter.registered(link);

    // a goes out and fails, and waits; of the changes after it only the newest two fit.
    vms.set({ id: "a", name: "a", state: "running" });
    await waitFor("the failed notification", () => log.count(/NotifyVMChange failed: overloaded/) === 1);
    for (const id of ["b", "c", "d", "e", "f", "g"]) vms.set({ id, name: id, state: "running" });
    expect(log.count(/dropping the oldest/)).toBe(1);
    expect(received).toEqual([]);

    answering = true;
    await reporter.heartbeatAnswered(link, false);
    await waitFor("the queue drained", () => received.length >= 2);
    expect(received.map((n) => n.vm?.id)).toEqual(["f", "g"]);
    ctl.abort();
    await reporter.stop();
    expect(vms.listeners()).toBe(0);
  });
});
