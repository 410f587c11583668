// Property-based: random and mutated requests to every RPC of the node API (NODE_API_RPCS: VMs,
// devices, streams, pools) through a real gRPC client against an in-process daemon. Whatever
// arrives, the daemon keeps running, answers with a code a client can act on (never INTERNAL,
// UNKNOWN or UNIMPLEMENTED, except InitStoragePool of a pool type this node does not serve), and
// its state stays consistent: ListVMs agrees with GetVMStatus, running VMs have distinct console
// ports, every snapshot's parent exists, every listed pool answers for itself. Runs are bounded
// (fixed seed, FC_SEED/FC_RUNS to explore more).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { NodeDaemonService, PowerState, VMTransition } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import { anyCall, type Call, VM_POOL } from "./fuzz-arbitraries.ts";
import { startHarness, waitFor, type Harness } from "./harness.ts";
import { NODE_API_RPCS } from "../support/daemon.ts";

const SEED = Number(process.env.FC_SEED ?? 20261122);
const RUNS = Number(process.env.FC_RUNS ?? 100);
const ALLOWED = new Set([
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.DeadlineExceeded,
  Code.Unavailable,
]);

let h: Harness;
let root: string;
const seen = new Map<string, number>();

beforeAll(async () => {
  h = await startHarness({ mock: { bootMs: 1, acpiShutdownMs: 3, migrationStepMs: 1 } });
  root = h.config.hypervisor.storagePath;
});
afterAll(() => h.stop());

/** A method by its local name (createVM) or its name (CreateVM). */
const methodOf = (name: string) => NodeDaemonService.methods.find((m) => m.localName === name || m.name === name)!;

/** Runs one call; resolves with its code ("OK" on success). */
async function run(c: Call): Promise<Code | "OK"> {
  const client = h.grpc as unknown as Record<string, (req: unknown, opts: object) => unknown>;
  const method = methodOf(c.method);
  try {
    if (method.methodKind === "unary") {
      await client[c.method]!(c.req, { timeoutMs: 3000 });
      return "OK";
    }
    const ac = new AbortController();
    // Events may never come: a short deadline ends the wait (DEADLINE_EXCEEDED is fine).
    const timeoutMs = c.method === "streamEvents" ? 100 : 3000;
    const stream = client[c.method]!(c.req, { signal: ac.signal, timeoutMs }) as AsyncIterable<unknown>;
    let n = 0;
    for await (const _ of stream) if (++n >= (c.method === "migrateVM" ? 100 : 1)) break;
    ac.abort();
    return "OK";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

function record(c: Call, code: Code | "OK") {
  const key = `${c.method} ${code === "OK" ? "OK" : Code[code]}`;
  seen.set(key, (seen.get(key) ?? 0) + 1);
  // Pool types this node does not serve (NFS, Ceph, iSCSI) are UNIMPLEMENTED on purpose.
  const allowed = ALLOWED.has(code as Code) || (c.method.startsWith("initStoragePool") && code === Code.Unimplemented);
  if (code !== "OK" && !allowed) {
    throw new Error(`${c.method} answered ${Code[code]} for ${JSON.stringify(c.req, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)).slice(0, 400)}`);
  }
}

async function consistent(): Promise<void> {
  const listed = (await h.grpc.listVMs({})).vms;
  const ports = new Map<number, string>();
  for (const vm of listed) {
    const status = await h.grpc.getVMStatus({ vmId: vm.vmId });
    expect({
      id: status.vmId,
      name: status.name,
      state: status.state,
      spec: status.spec,
      snapshots: status.snapshotCount,
      current: status.currentSnapshot,
    }).toEqual({
      id: vm.vmId,
      name: vm.name,
      state: vm.state,
      spec: vm.spec,
      snapshots: vm.snapshotCount,
      current: vm.currentSnapshot,
    });
    expect(status.state).not.toBe(PowerState.UNKNOWN);
    const console = status.spec!.console!;
    if (status.state === PowerState.RUNNING && (console.vncEnabled || console.spiceEnabled)) {
      const { port } = await h.grpc.getConsole({ vmId: vm.vmId });
      expect(ports.has(port) ? `${port} shared by ${ports.get(port)} and ${vm.vmId}` : "unique").toBe("unique");
      ports.set(port, vm.vmId);
    }
    const snaps = (await h.grpc.listSnapshots({ vmId: vm.vmId })).snapshots;
    const names = new Set(snaps.map((s) => s.snapshotId));
    for (const s of snaps) if (s.parentId) expect(names.has(s.parentId) ? "parent exists" : `missing parent ${s.parentId}`).toBe("parent exists");
    expect(snaps.filter((s) => s.current).map((s) => s.name)).toEqual(status.currentSnapshot ? [status.currentSnapshot] : []);
    expect(snaps.length).toBe(status.snapshotCount);
  }
  // Nothing outside the pool was ever created with a garbage id.
  for (const vm of listed) expect(/^[0-9a-f-]{36}$/.test(vm.vmId)).toBe(true);
  // Every pool listed answers for itself, and the node's own storage is always there.
  const pools = (await h.grpc.listStoragePools({})).pools;
  expect(pools.map((p) => p.poolId)).toContain("default");
  for (const p of pools) expect((await h.grpc.getStoragePoolInfo({ poolId: p.poolId })).mountPath).toBe(p.mountPath);
}

async function reset() {
  for (const vm of (await h.grpc.listVMs({})).vms) {
    await h.grpc.deleteVM({ vmId: vm.vmId, force: true }).catch(() => {});
  }
}

describe("random and mutated requests to every RPC", () => {
  test("sequences of calls (some concurrent): proper codes, consistent state", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(anyCall(root), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }), async (steps) => {
        // Three VMs of the pool exist (one running, one with a snapshot), so calls reach past NOT_FOUND.
        for (const [i, vmId] of VM_POOL.slice(0, 3).entries()) {
          await h.grpc.createVM({ vmId, name: `seed-${i}`, spec: { memoryMib: 256n, nics: [{ id: "eth0", bridge: "br0" }] }, start: i === 0 });
        }
        await h.grpc.createSnapshot({ vmId: VM_POOL[1]!, name: "s1" });
        for (const group of steps) {
          // Calls in a group race each other, like independent clients.
          const codes = await Promise.all(group.map(run));
          group.forEach((c, i) => record(c, codes[i]!));
        }
        // ACPI shutdowns and migrations that outlived their calls settle before the state is read.
        await waitFor("no VM in a transition", async () => (await h.grpc.listVMs({})).vms.every((v) => v.transition === VMTransition.VM_TRANSITION_NONE));
        await consistent();
        await reset();
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const methodsHit = new Set([...seen.keys()].map((k) => k.split(" ")[0]));
    expect(NODE_API_RPCS.map((name) => methodOf(name)!.localName).filter((m) => !methodsHit.has(m))).toEqual([]);
    const summary = [...seen.entries()]
      .sort()
      .map(([k, n]) => `${k}=${n}`)
      .join(" ");
    console.log(`fuzz (seed ${SEED}, ${RUNS} runs): ${summary}`);
    expect(h.logs.filter((l) => l.includes("failed unexpectedly"))).toEqual([]);
  }, 30_000);

  test("byte-mutated protobuf bodies (Connect, application/proto) to every unary RPC", async () => {
    const unary = NODE_API_RPCS.map(methodOf).filter((m) => m.methodKind === "unary");
    const valid: Record<string, Record<string, unknown>> = {
      createVM: {
        vmId: VM_POOL[0],
        name: "m",
        spec: { cpuSockets: 1, cpuCores: 1, cpuThreadsPerCore: 1, memoryMib: 256n, disks: [{ id: "d0", sizeGib: 1n }], cdroms: [{ id: "cd0" }] },
        labels: { a: "b" },
      },
      listVMs: { labelSelector: { a: "b" }, states: [1], pageSize: 2 },
      attachDisk: { vmId: VM_POOL[0], disk: { id: "d", sizeGib: 1n } },
      attachNIC: { vmId: VM_POOL[0], nic: { id: "n", bridge: "br0" } },
      createSnapshot: { vmId: VM_POOL[0], name: "s1", description: "d" },
      stopVM: { vmId: VM_POOL[0], timeoutSeconds: 1 },
      changeMedia: { vmId: VM_POOL[0], device: "sda", isoPath: "iso/x.iso" },
      // No config: a mutated path could name any host directory, and the mock creates it.
      initStoragePool: { poolId: "fz", type: 1 },
      listStoragePoolFiles: { poolId: "default", path: "iso" },
      resizeVolume: { poolId: "default", volumeId: "d0", newSizeBytes: 2n << 30n },
    };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...unary),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (method, flips, truncate) => {
          const input = method.input as DescMessage;
          const bytes = toBinary(input, create(input, valid[method.localName] ?? { vmId: VM_POOL[1] }));
          const body = new Uint8Array(bytes);
          for (const [at, value] of flips) if (body.length) body[at % body.length] = value;
          const sent = truncate ? body.subarray(0, Math.floor(body.length / 2)) : body;
          const res = await fetch(`${h.baseUrl}/${NodeDaemonService.typeName}/${method.name}`, {
            method: "POST",
            headers: { "content-type": "application/proto" },
            body: sent,
          });
          if (res.status === 200) return;
          const err = (await res.json()) as { code: string; message: string };
          const code = Object.entries(Code).find(([k]) => k.replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase()) === err.code)?.[1] as Code;
          // Bytes that are not protobuf at all fail in the framework before any handler, as
          // INTERNAL "parse binary: ..." (grpc-go answers the same). Anything else must be proper.
          if (code === Code.Internal && err.message.startsWith("parse binary:")) {
            record({ method: `${method.localName}(bytes)`, req: {} }, "OK");
            seen.set("unparsable protobuf", (seen.get("unparsable protobuf") ?? 0) + 1);
            return;
          }
          record({ method: `${method.localName}(bytes)`, req: {} }, code);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
    await consistent();
    expect((await h.grpc.healthCheck({})).healthy).toBe(true);
  }, 20_000);
});
