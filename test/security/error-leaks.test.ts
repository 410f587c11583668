// Errors reach clients without stack traces or host paths outside the storage roots, whatever
// the backend throws: a plain Error naming a file, an internal HypervisorError with a stack in
// its message, an expected error that quotes a host path, a failure inside a stream. The log
// keeps the details for the operator.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { HypervisorError } from "../../src/hypervisor/errors.ts";
import { createMockHypervisor } from "../../src/hypervisor/mock/index.ts";
import type { Hypervisor } from "../../src/hypervisor/types.ts";
import { sanitizeMessage } from "../../src/server/errors.ts";
import { drain, newVmId, smallVm, startHarness, type Harness } from "../reliability/harness.ts";

let h: Harness;
let storage: string;
const SECRET = "/root/.ssh/id_ed25519";

function leakyBackend(storagePath: string): Hypervisor {
  const mock = createMockHypervisor({ bootMs: 1, storagePath });
  return {
    ...mock,
    async startVm() {
      throw new Error(`EACCES: permission denied, open '${SECRET}'`);
    },
    async pauseVm() {
      const err = new HypervisorError("internal", `qemu-img failed on ${SECRET}\n    at spawn (/usr/lib/limiquantix/src/x.ts:10:5)`);
      throw err;
    },
    async resumeVm(id) {
      throw new HypervisorError("not_found", `storage file '/srv/other/${id}.qcow2' not found; expected under ${storagePath}/${id}`);
    },
    async getConsole() {
      throw new TypeError("Cannot read properties of undefined (reading 'port')");
    },
    async *migrateVm() {
      yield { vmId: "x", phase: "starting", percent: 0, dataTotalBytes: 0, dataProcessedBytes: 0, dataRemainingBytes: 0, elapsedMs: 0, message: "go" };
      throw new Error(`socket /var/run/libvirt/libvirt-sock closed: ${new Error("inner").stack}`);
    },
  };
}

beforeAll(async () => {
  h = await startHarness({ backend: (c) => leakyBackend(c.hypervisor.storagePath) });
  storage = h.config.hypervisor.storagePath;
});
afterAll(() => h.stop());

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e) => ConnectError.from(e),
  );

function expectClean(err: ConnectError | undefined) {
  expect(err).toBeInstanceOf(ConnectError);
  const text = `${err!.rawMessage} ${JSON.stringify(err!.metadata)}`;
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain("/root");
  expect(text).not.toContain("/var/run");
  expect(text).not.toContain("/srv/other");
  expect(text).not.toContain("/usr/lib");
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/\.ts:\d+/);
}

describe("errors reaching clients", () => {
  const id = newVmId();
  beforeAll(() => h.grpc.createVM({ vmId: id, ...smallVm("leaky") }));

  test("a plain Error naming a file is INTERNAL with a generic message, over gRPC and Connect JSON", async () => {
    for (const client of [h.grpc, h.connect]) {
      const err = await failure(client.startVM({ vmId: id }));
      expect(err!.code).toBe(Code.Internal);
      expect(err!.rawMessage).toContain("see its log");
      expectClean(err);
    }
    // The operator still gets the whole story.
    expect(h.logs.some((l) => l.includes("StartVM failed unexpectedly") && l.includes(SECRET))).toBe(true);
  });

  test("an internal HypervisorError loses its path and its stack", async () => {
    const err = await failure(h.grpc.pauseVM({ vmId: id }));
    expect(err!.code).toBe(Code.Internal);
    expect(err!.rawMessage).toContain("qemu-img failed");
    expectClean(err);
  });

  test("an expected error keeps paths inside the storage roots and loses the others", async () => {
    const err = await failure(h.grpc.resumeVM({ vmId: id }));
    expect(err!.code).toBe(Code.NotFound);
    expect(err!.rawMessage).toContain(`${storage}/${id}`);
    expectClean(err);
  });

  test("a TypeError from a bug is INTERNAL, no stack", async () => {
    const err = await failure(h.connect.getConsole({ vmId: id }));
    expect(err!.code).toBe(Code.Internal);
    expect(err!.rawMessage).not.toContain("undefined");
    expectClean(err);
  });

  test("a failure in the middle of a stream is INTERNAL, no path, no stack", async () => {
    const { messages, error } = await drain(h.grpc.migrateVM({ vmId: id, targetNodeUri: "qemu+tcp://node2.example/system" }));
    expect(messages.length).toBe(1);
    const err = ConnectError.from(error);
    expect(err.code).toBe(Code.Internal);
    expectClean(err);
  });
});

describe("sanitizeMessage", () => {
  const roots = ["/var/lib/limiquantix/vms", "/var/lib/limiquantix/vms/iso"];
  test.each([
    ["open '/etc/shadow' failed", "open '<host path>' failed"],
    ["disk /var/lib/limiquantix/vms/a/root.qcow2 is busy", "disk /var/lib/limiquantix/vms/a/root.qcow2 is busy"],
    ["disk /var/lib/limiquantix/vms/../../../etc/x", "disk <host path>"],
    ["disk /var/lib/limiquantix/vms-other/x", "disk <host path>"],
    ["target qemu+tcp://node2/system unreachable", "target qemu+tcp://node2/system unreachable"],
    ["key must be 1-63 characters of A-Z a-z 0-9 . _ / -", "key must be 1-63 characters of A-Z a-z 0-9 . _ / -"],
    ["path=/root/x (denied)", "path=<host path> (denied)"],
    ["first line\n    at f (/src/a.ts:1:1)", "first line"],
  ])("%s", (input, output) => {
    expect(sanitizeMessage(input, roots)).toBe(output);
  });
});
