// login-timing.ts with a fake clock: every failed login is answered floorMs after it started,
// whatever PAM took; a success at once. No wall clock is read.

import { describe, expect, test } from "bun:test";
import { failedLoginHoldMs, type LoginClock, withFailureFloor } from "../../../src/server/host-ui/login-timing.ts";

function fakeClock(start = 1000): LoginClock & { t: number; slept: number[] } {
  const c = {
    t: start,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

/** An attempt that takes `ms` on the fake clock, then answers `status`. */
const takes = (clock: { t: number }, ms: number, status: number) => async () => {
  clock.t += ms;
  return Response.json({ error: status === 200 ? undefined : "invalid_credentials" }, { status });
};

describe("failed logins take the same time", () => {
  test("the hold is what is left of the floor, never negative", () => {
    expect(failedLoginHoldMs(1000, 1000, 4000)).toBe(4000);
    expect(failedLoginHoldMs(1000, 3200, 4000)).toBe(1800);
    expect(failedLoginHoldMs(1000, 5000, 4000)).toBe(0);
    expect(failedLoginHoldMs(1000, 9000, 4000)).toBe(0);
  });

  test("an unknown user (PAM 3.0 s) and a wrong password (PAM 2.2 s) both answer at the floor", async () => {
    const ends: number[] = [];
    for (const pamMs of [3000, 2200, 0, 3750]) {
      const clock = fakeClock();
      const res = await withFailureFloor(takes(clock, pamMs, 401), clock, 4000);
      expect(res.status).toBe(401);
      ends.push(clock.t - 1000);
    }
    expect(ends).toEqual([4000, 4000, 4000, 4000]);
  });

  test("a success is not held; a failure slower than the floor is not held more", async () => {
    const ok = fakeClock();
    expect((await withFailureFloor(takes(ok, 2500, 200), ok, 4000)).status).toBe(200);
    expect(ok.slept).toEqual([]);
    const slow = fakeClock();
    await withFailureFloor(takes(slow, 5000, 401), slow, 4000);
    expect(slow.slept).toEqual([0]);
  });

  test("an attempt that throws is held too, then rethrows", async () => {
    const clock = fakeClock();
    const attempt = async () => {
      clock.t += 100;
      throw new Error("worker died");
    };
    await expect(withFailureFloor(attempt, clock, 4000)).rejects.toThrow("worker died");
    expect(clock.t - 1000).toBe(4000);
  });
});
