// The call pool's bounds on the test driver: lanes, the bounded queue, deadlines, a request's
// cancellation, and call Workers that crash or cannot be restarted. A listing of a few thousand
// domains is a call that is slow for real (tens of ms of libvirt work), so no test-only slow op
// is needed; calls made in one synchronous burst are all queued before any Worker answers.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withRequestSignal } from "../../../src/common/request-signal.ts";
import { HypervisorError } from "../../../src/hypervisor/errors.ts";
import { createCallPool, type CallPool } from "../../../src/hypervisor/libvirt/call-pool.ts";
import { ruleOf } from "../../../src/hypervisor/libvirt/call-rules.ts";

/** A private test-driver host (a custom file, not test:///default): its domains are this file's alone. */
const dir = mkdtempSync(join(tmpdir(), "lq14a-lanes-"));
const hostFile = join(dir, "host.xml");
const URI = `test://${hostFile}`;
const DOMAINS = 1000;
const uuidOf = (i: number) => `5a1b0c2d-0000-4000-8000-${(0x14a000000 + i).toString(16).padStart(12, "0")}`;

function writeHost(): void {
  const domains = Array.from(
    { length: DOMAINS },
    (_, i) => `<domain type='test'><name>lq14a-${i}</name><uuid>${uuidOf(i)}</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`,
  ).join("");
  writeFileSync(hostFile, `<node>${domains}</node>`);
}

/** The error a promise rejects with (fails the test when it resolves). */
async function errorOf(p: Promise<unknown>): Promise<HypervisorError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HypervisorError);
    return err as HypervisorError;
  }
  throw new Error("expected the call to fail, and it succeeded");
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(20);
  }
}

beforeAll(() => writeHost());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the rule of lanes and deadlines", () => {
  test("job control has its own lane and always runs; a migration is long, without deadline", () => {
    expect(ruleOf("domain", 1000)).toEqual({ lane: "short", deadlineMs: 1000, cancellable: true, urgent: false });
    expect(ruleOf("volumes", 1000)).toMatchObject({ lane: "short", deadlineMs: 2000 });
    expect(ruleOf("createVolumeIn", 1000)).toMatchObject({ lane: "long", deadlineMs: 120_000 });
    expect(ruleOf("migrate", 1000)).toEqual({ lane: "long", deadlineMs: Number.POSITIVE_INFINITY, cancellable: true, urgent: false });
    for (const op of ["jobStats", "abortJob", "setMaxDowntime"])
      expect(ruleOf(op, 1000)).toMatchObject({ lane: "control", deadlineMs: 1000, cancellable: false });
    // A cancel overtakes the progress reads waiting for the job-control Worker.
    expect(ruleOf("abortJob").urgent).toBe(true);
    expect(ruleOf("jobStats").urgent).toBe(false);
  });
});

describe(`call pool on ${DOMAINS} domains of a test-driver host`, () => {
  let pool: CallPool;
  beforeAll(async () => {
    pool = await createCallPool({ uri: URI, size: 1, queueLimit: 4, callDeadlineMs: 60_000 });
  });
  afterAll(() => pool.close());

  test("a full queue refuses at once with RESOURCE_EXHAUSTED naming the queue and the pool", async () => {
    const calls = Array.from({ length: 12 }, () =>
      pool.call("domains", 0).then(
        () => "ok",
        (e: HypervisorError) => e,
      ),
    );
    const results = await Promise.all(calls);
    const refused = results.filter((r) => r instanceof HypervisorError) as HypervisorError[];
    console.info(`12 listings at once, 1 Worker, queue limit 4: ${12 - refused.length} ran, ${refused.length} refused: ${refused[0]?.message}`);
    // One runs, four wait, the other seven are refused.
    expect(results.filter((r) => r === "ok")).toHaveLength(5);
    expect(refused).toHaveLength(7);
    expect(refused[0]?.kind).toBe("resource_exhausted");
    expect(refused[0]?.message).toContain("queue limit 4");
    expect(refused[0]?.message).toContain("4 short calls already wait for 1 Workers");
    expect(refused[0]?.message).toContain("domains");
  });

  test("a client that goes away: its queued calls never run (CANCELED), its running call's result is dropped", async () => {
    const ac = new AbortController();
    const calls = withRequestSignal(ac.signal, () => [pool.call("domains", 0), pool.call("domains", 0), pool.call("domains", 0)]);
    expect(pool.queued).toBe(2);
    ac.abort();
    const errors = await Promise.all(calls.map(errorOf));
    for (const e of errors) expect(e.kind).toBe("cancelled");
    expect(errors[0]?.message).toContain("had started: it finishes on its Worker and its result is dropped");
    expect(errors[1]?.message).toContain("domains was still queued and never ran");
    expect(pool.queued).toBe(0);
    // The Worker finishes the started listing, drops it, and serves the next call.
    expect((await pool.call("domains", 0)).length).toBe(DOMAINS);
    // Job control is how a cancel is carried out: it runs even for a client already gone.
    const gone = AbortSignal.abort();
    const abortErr = await errorOf(withRequestSignal(gone, () => pool.call("abortJob", uuidOf(0))));
    expect(abortErr.kind).not.toBe("cancelled");
    // A short call for that client is refused before it is queued.
    expect((await errorOf(withRequestSignal(gone, () => pool.call("domain", uuidOf(0), 0)))).kind).toBe("cancelled");
  });
});

describe("deadlines", () => {
  test("a call past its deadline is DEADLINE_EXCEEDED naming the op, running or queued; the Worker serves on", async () => {
    // 10 ms: listing thousands of domains with their XML takes far longer, on any machine.
    const pool = await createCallPool({ uri: URI, size: 1, callDeadlineMs: 10 });
    try {
      const [running, queued] = await Promise.all([errorOf(pool.call("domains", 0)), errorOf(pool.call("domains", 0))]);
      console.info(`deadline 10 ms: ${running.message} | ${queued.message}`);
      expect(running.kind).toBe("timeout");
      expect(running.message).toContain("libvirt call domains exceeded its 10 ms deadline; libvirt is still working on it");
      expect(queued.kind).toBe("timeout");
      expect(queued.message).toContain("waiting in the short queue");
      expect(queued.message).toContain("it never ran");
      // The late result was dropped; the same Worker answers the next (quick) call.
      await until("the Worker answers again", async () => (await pool.call("ping").catch(() => false)) === true);
      expect(pool.lanes().short).toMatchObject({ workers: 1, up: 1 });
    } finally {
      await pool.close();
    }
  });
});

describe("call Workers that fail", () => {
  test("a crashed Worker fails its call UNAVAILABLE and is replaced; the other Workers serve meanwhile", async () => {
    const pool = await createCallPool({ uri: URI, size: 2 });
    try {
      // The crash request reaches Worker 0 before the call sent right after it: that call is
      // the one the crash takes down.
      pool.crashWorkerForTest("short", 0);
      const err = await errorOf(pool.call("domains", 0));
      console.info(`the call of a Worker that crashed: ${err.message}`);
      expect(err.kind).toBe("unavailable");
      expect(err.message).toContain("the libvirt call Worker running domains crashed (crash requested by a test");
      expect((await pool.call("domains", 0)).length).toBe(DOMAINS);
      await until("both Workers are up again", () => pool.lanes().short.up === 2 && pool.lanes().short.busy === 0);
      expect(await Promise.all([pool.call("ping"), pool.call("ping"), pool.call("ping")])).toEqual([true, true, true]);
    } finally {
      await pool.close();
    }
  });

  test("no Worker alive: calls are refused at once with UNAVAILABLE and the reason; restarts go on until libvirt is back", async () => {
    const pool = await createCallPool({ uri: URI, size: 1 });
    try {
      // The host file gone, a new Worker's connection fails: restarts fail until it is back.
      rmSync(hostFile);
      pool.crashWorkerForTest("short", 0);
      await until("the Worker is down", () => pool.lanes().short.up === 0);
      const err = await errorOf(pool.call("domains", 0));
      console.info(`with no Worker alive: ${err.message}`);
      expect(err.kind).toBe("unavailable");
      expect(err.message).toContain("libvirt domains cannot run: no libvirt call Worker could be started");
      expect(err.message).toContain(hostFile);
      expect(pool.unavailableReason()).toContain("no libvirt call Worker could be started");
      expect((await errorOf(pool.call("ping"))).kind).toBe("unavailable");
      writeHost();
      await until("a restart succeeds", async () => (await pool.call("ping").catch(() => false)) === true);
      expect(pool.unavailableReason()).toBeUndefined();
      expect((await pool.call("domains", 0)).length).toBe(DOMAINS);
    } finally {
      writeHost();
      await pool.close();
    }
  });
});
