// The libvirt call pool's bounds through the daemon's API (fast tier, test:///default): daemons
// with one short-call Worker, and a queue and call deadline set through their config keys. A ListVMs over 500 extra domains is a call that is slow for real
// (hundreds of ms of libvirt work), so a burst of them fills the queue on any machine.

import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DiskFormat } from "../../src/gen/limiquantix/node/v1/node_daemon_pb.ts";
import * as ffi from "../../src/hypervisor/libvirt/ffi/index.ts";
import { callLanesForTest } from "../../src/hypervisor/libvirt/libvirt-hypervisor.ts";
import { connectErrorOf, startLibvirtDaemon, type LibvirtTestDaemon } from "./helpers.ts";

const URI = "test:///default";
const EXTRA = 1000;
const run = crypto.randomUUID().slice(0, 8);
let conn: ffi.Connection;
const extra: string[] = [];

/** A thousand more domains in test:///default (shared by every connection of this process). */
function defineExtra(): void {
  for (let i = extra.length; i < EXTRA; i++) {
    const d = ffi.defineDomain(conn, `<domain type='test'><name>lq14a-${run}-${i}</name><memory>65536</memory><os><type>hvm</type></os></domain>`);
    extra.push(ffi.domainUuid(conn, d));
    ffi.freeDomain(conn, d);
  }
}

beforeAll(() => {
  conn = ffi.openConnection(ffi.loadLibvirt(), URI);
});

afterAll(() => {
  for (const uuid of extra) ffi.withDomain(conn, uuid, (d) => ffi.undefineDomain(conn, d, 0));
  ffi.closeConnection(conn);
}, 60_000);

/** A daemon with one short-call Worker and the given queue and deadline (its config keys). */
function daemon(queueLimit: number, deadlineMs: number): Promise<LibvirtTestDaemon> {
  return startLibvirtDaemon({
    uri: URI,
    configure: (c) => {
      c.hypervisor.libvirtWorkers = 1;
      c.hypervisor.libvirtQueueLimit = queueLimit;
      c.hypervisor.libvirtCallDeadlineMs = deadlineMs;
    },
  });
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(5);
  }
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "OK",
    (e: unknown) => ConnectError.from(e),
  );

describe("bounded libvirt calls through the API", () => {
  test("a burst beyond the queue: the excess is RESOURCE_EXHAUSTED at once, the queued past their deadline DEADLINE_EXCEEDED", async () => {
    // 300 ms: the daemon's start calls take far less; a listing of a thousand domains, about as long.
    const t = await daemon(100, 300);
    try {
      defineExtra();
      await burst(t);
    } finally {
      await t.stop();
    }
  }, 60_000);

  test("a client that goes away: its queued CreateVM never runs", async () => {
    defineExtra();
    const t = await daemon(100, 30_000);
    try {
      await leave(t);
    } finally {
      await t.stop();
    }
  }, 60_000);
});

async function burst(t: LibvirtTestDaemon): Promise<void> {
  const results = await Promise.all(Array.from({ length: 150 }, () => outcome(t.grpc.listVMs({}))));
  const errs = results.filter((r) => r instanceof ConnectError) as ConnectError[];
  const refused = errs.filter((e) => e.code === Code.ResourceExhausted);
  const late = errs.filter((e) => e.code === Code.DeadlineExceeded);
  const ok = results.filter((r) => r === "OK").length;
  console.info(
    `150 ListVMs over ${EXTRA} domains, 1 Worker, queue 100, deadline 300 ms: ${ok} OK, ${late.length} DEADLINE_EXCEEDED, ${refused.length} RESOURCE_EXHAUSTED`,
  );
  console.info(`  ${refused[0]?.rawMessage}\n  ${late.at(-1)?.rawMessage}`);
  expect(ok + late.length + refused.length).toBe(150);
  // At most 1 running + 100 waiting at any moment, and each takes far more than the 10 ms
  // that 49 could drain in: the excess is refused.
  expect(refused.length).toBeGreaterThan(0);
  expect(refused[0]?.rawMessage).toContain("queue limit 100");
  expect(refused[0]?.rawMessage).toContain("for 1 Workers");
  // 100 listings of a thousand domains cannot all run within 300 ms on one Worker.
  expect(late.length).toBeGreaterThan(0);
  expect(late.at(-1)?.rawMessage).toContain("libvirt call domains exceeded its 300 ms deadline");
  // Nothing is left waiting, and the daemon serves as before.
  await until("the queue is empty", () => callLanesForTest(t.daemon.hypervisor).short.queued === 0);
  expect((await t.grpc.healthCheck({})).healthy).toBe(true);
}

async function leave(t: LibvirtTestDaemon): Promise<void> {
  const ahead = Array.from({ length: 3 }, () => outcome(t.grpc.listVMs({})));
  await until("the listings are queued", () => callLanesForTest(t.daemon.hypervisor).short.queued === 2);
  const ids = Array.from({ length: 4 }, () => crypto.randomUUID());
  const clients = ids.map(() => new AbortController());
  const creates = ids.map((id, i) =>
    connectErrorOf(
      t.grpc.createVM(
        {
          vmId: id,
          name: `lq14a-${run}-c${i}`,
          spec: { cpuCores: 1, memoryMib: 64n, disks: [{ id: "root", sizeGib: 1n, format: DiskFormat.QCOW2, bootable: true }] },
        },
        { signal: clients[i]?.signal },
      ),
    ),
  );
  // Each CreateVM's first libvirt call waits behind the listings; then the clients leave.
  await until("the CreateVMs are queued", () => callLanesForTest(t.daemon.hypervisor).short.queued >= 2 + ids.length);
  for (const c of clients) c.abort();
  for (const e of await Promise.all(creates)) expect(e.code).toBe(Code.Canceled);
  await until("the server dropped them", () => callLanesForTest(t.daemon.hypervisor).short.queued <= 2);
  expect(await Promise.all(ahead)).toEqual(Array(3).fill("OK"));
  // Had any CreateVM run on, its domain would be defined by now.
  for (const id of ids) expect((await connectErrorOf(t.grpc.getVMStatus({ vmId: id }))).code).toBe(Code.NotFound);
  for (let i = 0; i < ids.length; i++) expect(ffi.lookupDomainByName(conn, `lq14a-${run}-c${i}`)).toBeNull();
  await until("every handler has finished", () => t.daemon.stats().activeCalls === 0);
}
