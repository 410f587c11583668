import { describe, expect, test } from "bun:test";
import { createVmLocks } from "../../src/hypervisor/vm-lock.ts";

describe("createVmLocks", () => {
  test("operations on one id run one at a time, in call order", async () => {
    const locks = createVmLocks();
    const log: string[] = [];
    let inside = 0;
    const op = (name: string, ms: number) =>
      locks.run("a", async () => {
        inside++;
        expect(inside).toBe(1);
        log.push(`${name}:start`);
        await Bun.sleep(ms);
        log.push(`${name}:end`);
        inside--;
        return name;
      });
    expect(await Promise.all([op("1", 10), op("2", 1), op("3", 5)])).toEqual(["1", "2", "3"]);
    expect(log).toEqual(["1:start", "1:end", "2:start", "2:end", "3:start", "3:end"]);
  });

  test("different ids run in parallel", async () => {
    const locks = createVmLocks();
    let concurrent = 0;
    let peak = 0;
    const op = (id: string) =>
      locks.run(id, async () => {
        peak = Math.max(peak, ++concurrent);
        await Bun.sleep(10);
        concurrent--;
      });
    await Promise.all(["a", "b", "c", "d"].map(op));
    expect(peak).toBe(4);
  });

  test("a failing operation rejects its caller only and the next one still runs", async () => {
    const locks = createVmLocks();
    const failing = locks.run("a", () => {
      throw new Error("boom");
    });
    const next = locks.run("a", async () => "ok");
    await expect(failing).rejects.toThrow("boom");
    expect(await next).toBe("ok");
  });

  test("idle ids are forgotten", async () => {
    const locks = createVmLocks();
    const pending = Promise.all(Array.from({ length: 100 }, (_, i) => locks.run(`vm-${i % 10}`, () => Bun.sleep(1))));
    expect(locks.activeIds).toBe(10);
    await pending;
    expect(locks.activeIds).toBe(0);
  });
});
