// Operations on one VM are serialized, operations on different VMs run in parallel, and
// CreateVM is idempotent under concurrency: measured through real gRPC calls on a real daemon.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code } from "@connectrpc/connect";
import { EventType, type NodeEvent, VMState } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { codeOf, newVmId, smallSpec, startHarness, type Harness } from "./harness.ts";

const BOOT_MS = 300;
let h: Harness;
const events: NodeEvent[] = [];
const ac = new AbortController();
let watching: Promise<void>;

beforeAll(async () => {
  h = await startHarness({ mock: { bootMs: BOOT_MS } });
  watching = (async () => {
    try {
      for await (const e of h.grpc.streamEvents({}, { signal: ac.signal })) events.push(e);
    } catch {}
  })();
  await Bun.sleep(50);
});
afterAll(async () => {
  ac.abort();
  await watching;
  await h.stop();
});

/** Codes of concurrent calls in a stable order (undefined = success). */
const sortCodes = (codes: (Code | undefined)[]) => [...codes].map((c) => c ?? -1).sort((a, b) => a - b);

async function createVms(n: number, prefix: string): Promise<string[]> {
  const ids = Array.from({ length: n }, () => newVmId());
  await Promise.all(ids.map((vmId, i) => h.grpc.createVM({ vmId, spec: smallSpec(`${prefix}-${i}`) })));
  return ids;
}

describe("per-VM serialization", () => {
  test("two racing StartVM calls: one success, one FAILED_PRECONDITION, one clean transition", async () => {
    const ids = await createVms(10, "race");
    const outcomes = await Promise.all(ids.map((vmId) => Promise.all([codeOf(h.grpc.startVM({ vmId })), codeOf(h.grpc.startVM({ vmId }))])));
    for (const pair of outcomes) expect(sortCodes(pair)).toEqual(sortCodes([Code.FailedPrecondition, undefined]));
    await Bun.sleep(50);
    const ports = new Set<number>();
    for (const vmId of ids) {
      expect((await h.grpc.getVMStatus({ vmId })).state).toBe(VMState.VM_STATE_RUNNING);
      const transitions = events.filter((e) => e.vmId === vmId && e.state === VMState.VM_STATE_RUNNING);
      expect(transitions.map((e) => e.previousState)).toEqual([VMState.VM_STATE_STOPPED]);
      ports.add((await h.grpc.getConsole({ vmId })).port);
    }
    expect(ports.size).toBe(ids.length);
    await Promise.all(ids.map((vmId) => h.grpc.deleteVM({ vmId, force: true })));
  });

  test("start racing force stop and delete never leaves a half state", async () => {
    const ids = await createVms(6, "mixed");
    await Promise.all(
      ids.map((vmId) =>
        Promise.all([
          codeOf(h.grpc.startVM({ vmId })),
          codeOf(h.grpc.forceStopVM({ vmId })),
          codeOf(h.grpc.deleteVM({ vmId })),
          codeOf(h.grpc.startVM({ vmId })),
        ]),
      ),
    );
    for (const vmId of ids) {
      const code = await codeOf(h.grpc.getVMStatus({ vmId }));
      if (code === Code.NotFound) continue;
      const status = await h.grpc.getVMStatus({ vmId });
      expect([VMState.VM_STATE_RUNNING, VMState.VM_STATE_STOPPED]).toContain(status.state);
      expect(status.startedAt !== undefined).toBe(status.state === VMState.VM_STATE_RUNNING);
    }
    await Promise.all(ids.map((vmId) => codeOf(h.grpc.deleteVM({ vmId, force: true }))));
  });

  test("the second operation on a VM waits for the first (serialized, not interleaved)", async () => {
    const [vmId] = await createVms(1, "serial");
    const started = performance.now();
    const answered: number[] = [];
    await Promise.all([0, 1].map(() => codeOf(h.grpc.startVM({ vmId: vmId! })).then(() => answered.push(performance.now() - started))));
    // Both answers come after one boot; the loser saw the winner's finished state.
    expect(Math.min(...answered)).toBeGreaterThanOrEqual(BOOT_MS * 0.9);
    await h.grpc.deleteVM({ vmId: vmId!, force: true });
  });

  test("N slow operations on N VMs take about as long as one (parallel, not N times)", async () => {
    const n = 8;
    const ids = await createVms(n, "parallel");
    const started = performance.now();
    await Promise.all(ids.map((vmId) => h.grpc.startVM({ vmId })));
    const elapsed = performance.now() - started;
    console.log(`${n} StartVM of ${BOOT_MS} ms each on ${n} VMs took ${elapsed.toFixed(0)} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(BOOT_MS * 0.9);
    expect(elapsed).toBeLessThan(BOOT_MS * 2);
    await Promise.all(ids.map((vmId) => h.grpc.deleteVM({ vmId, force: true })));
  });
});

describe("CreateVM under concurrency", () => {
  test("identical concurrent requests create once; the others answer created=false", async () => {
    const vmId = newVmId();
    const spec = smallSpec("twin", { labels: { a: "1" } });
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.grpc.createVM({ vmId, spec })));
    expect(answers.filter((a) => a.created).length).toBe(1);
    expect(new Set(answers.map((a) => a.vm!.vmId))).toEqual(new Set([vmId]));
    expect(events.filter((e) => e.vmId === vmId && e.type === EventType.VM_CREATED).length).toBe(1);
  });

  test("the same id with another spec is ALREADY_EXISTS, even when racing the first create", async () => {
    const vmId = newVmId();
    const codes = await Promise.all([
      codeOf(h.grpc.createVM({ vmId, spec: smallSpec("one") })),
      codeOf(h.grpc.createVM({ vmId, spec: smallSpec("one", { memory: { sizeMib: 512n } }) })),
    ]);
    expect(sortCodes(codes)).toEqual(sortCodes([Code.AlreadyExists, undefined]));
    expect(await codeOf(h.grpc.createVM({ vmId, spec: smallSpec("one", { description: "changed" }) }))).toBe(Code.AlreadyExists);
  });

  test("two ids racing for one name: one wins, the other is ALREADY_EXISTS", async () => {
    const codes = await Promise.all([
      codeOf(h.grpc.createVM({ vmId: newVmId(), spec: smallSpec("contested") })),
      codeOf(h.grpc.createVM({ vmId: newVmId(), spec: smallSpec("contested") })),
    ]);
    expect(sortCodes(codes)).toEqual(sortCodes([Code.AlreadyExists, undefined]));
    expect((await h.grpc.listVMs({})).vms.filter((v) => v.name === "contested").length).toBe(1);
  });
});
