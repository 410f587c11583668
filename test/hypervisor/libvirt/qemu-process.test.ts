// The start of QEMU processes that were running before the backend connected: libvirt's pid
// file, then the kernel's start time of that pid (src/hypervisor/libvirt/qemu-process.ts).

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LibvirtContext } from "../../../src/hypervisor/libvirt/context.ts";
import type { RawDomain } from "../../../src/hypervisor/libvirt/ops.ts";
import { qemuRunDir, qemuStartedAt, recordProcessStarts } from "../../../src/hypervisor/libvirt/qemu-process.ts";

const root = mkdtempSync(join(tmpdir(), "lq-qemu-proc-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const runDir = join(root, "run");
const procRoot = join(root, "proc");
mkdirSync(runDir);
mkdirSync(join(procRoot, "4242"), { recursive: true });
writeFileSync(join(procRoot, "stat"), "cpu  1 2 3 4 5 6 7 0 0 0\nbtime 1795311397\n");
// starttime (field 22) 1228410 ticks = 12,284.1 s after boot.
writeFileSync(join(procRoot, "4242", "stat"), "4242 (qemu-system-x86) S 1 4241 4241 0 -1 138412416 4659 0 25 0 11 365 0 0 20 0 5 0 1228410 361672704 9547\n");
writeFileSync(join(runDir, "web-1.pid"), "4242\n");
writeFileSync(join(runDir, "gone.pid"), "99999\n");
writeFileSync(join(runDir, "garbage.pid"), "not a pid\n");
const roots = { runDir, procRoot };
const STARTED = "2026-11-22T05:01:21.100Z";

describe("qemuRunDir", () => {
  test("only the local system QEMU driver has pid files here", () => {
    expect(qemuRunDir("qemu:///system")).toBe("/run/libvirt/qemu");
    expect(qemuRunDir("qemu+unix:///system?socket=/run/libvirt/libvirt-sock")).toBe("/run/libvirt/qemu");
    for (const uri of ["qemu:///session", "qemu+ssh://root@hv2/system", "qemu+tcp://hv2/system", "test:///default", "not a uri"]) {
      expect(qemuRunDir(uri)).toBeUndefined();
    }
  });
});

describe("qemuStartedAt", () => {
  test("the pid file's process started at boot time plus its start ticks", async () => {
    expect((await qemuStartedAt(roots, "web-1"))?.toISOString()).toBe(STARTED);
  });

  test("no pid file, a pid without a process, a file that is not a pid, no run dir: nothing", async () => {
    expect(await qemuStartedAt(roots, "never-ran")).toBeUndefined();
    expect(await qemuStartedAt(roots, "gone")).toBeUndefined();
    expect(await qemuStartedAt(roots, "garbage")).toBeUndefined();
    expect(await qemuStartedAt({ procRoot }, "web-1")).toBeUndefined();
  });
});

describe("recordProcessStarts", () => {
  const domain = (uuid: string, name: string, state: number): RawDomain => ({ uuid, name, state, reason: 0, xml: "", snapshotCount: 0 });

  test("fills the start of running domains it did not see start, and touches nothing else", async () => {
    const known = new Date("2026-11-22T06:00:00Z");
    const ctx = { startedAt: new Map([["b", known]]) } as unknown as LibvirtContext;
    // libvirt states: 1 running, 3 paused, 5 shut off.
    await recordProcessStarts(ctx, [domain("a", "web-1", 1), domain("b", "web-1", 1), domain("c", "web-1", 5), domain("d", "never-ran", 3)], roots);
    expect(ctx.startedAt.get("a")?.toISOString()).toBe(STARTED);
    expect(ctx.startedAt.get("b")).toBe(known);
    expect(ctx.startedAt.has("c")).toBe(false);
    expect(ctx.startedAt.has("d")).toBe(false);
  });
});
