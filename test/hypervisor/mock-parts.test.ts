import { describe, expect, test } from "bun:test";
import { createPortAllocator } from "../../src/hypervisor/mock/console-ports.ts";
import { diskSuffix as targetSuffix, nextTarget } from "../../src/hypervisor/disk-targets.ts";
import { createTimers } from "../../src/hypervisor/mock/timers.ts";
import type { DiskSpec } from "../../src/hypervisor/types.ts";
import { expectKind } from "./contract.ts";

test("targetSuffix counts like libvirt: a..z, aa..az, ba..", () => {
  expect([0, 1, 25, 26, 27, 51, 52, 701, 702].map(targetSuffix)).toEqual(["a", "b", "z", "aa", "ab", "az", "ba", "zz", "aaa"]);
});

test("nextTarget fills the lowest gap on the bus's prefix", () => {
  const disk = (target: string) => ({ target }) as DiskSpec;
  expect(nextTarget("virtio", [disk("vda"), disk("vdc"), disk("sda")])).toBe("vdb");
  expect(nextTarget("sata", [disk("vda"), disk("sda")])).toBe("sdb");
  expect(nextTarget("scsi", [disk("sda"), disk("sdb")])).toBe("sdc");
  expect(nextTarget("ide", [])).toBe("hda");
});

describe("console ports", () => {
  test("run out with resource_exhausted and come back when released", async () => {
    const ports = createPortAllocator(5900, 5901);
    expect([ports.allocate(), ports.allocate()]).toEqual([5900, 5901]);
    await expectKind(
      Promise.resolve().then(() => ports.allocate()),
      "resource_exhausted",
    );
    ports.release(5900);
    ports.release(5900); // twice is harmless
    expect(ports.allocate()).toBe(5900);
    expect(ports.inUse).toBe(2);
  });
});

describe("timers", () => {
  test("sleep resolves, aborts with cancelled, and clear() rejects with unavailable", async () => {
    const timers = createTimers();
    await timers.sleep(1);
    const abort = new AbortController();
    const aborted = timers.sleep(10_000, abort.signal);
    abort.abort();
    await expectKind(aborted, "cancelled");
    const pending = timers.sleep(10_000);
    let fired = false;
    timers.after(10_000, () => {
      fired = true;
    });
    expect(timers.pending).toBe(2);
    timers.clear();
    await expectKind(pending, "unavailable");
    expect(timers.pending).toBe(0);
    expect(fired).toBe(false);
    await expectKind(timers.sleep(1), "unavailable");
  });

  test("a timeout beyond setTimeout's range does not fire at once", async () => {
    const timers = createTimers();
    let fired = false;
    timers.after(2 ** 40, () => {
      fired = true;
    });
    await Bun.sleep(5);
    expect(fired).toBe(false);
    timers.clear();
  });
});
