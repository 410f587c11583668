import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { backoffCeiling, backoffDelay } from "../../src/common/backoff.ts";

/** The registrar's: 1 s doubling up to a minute. */
const defaultBackoff = { initialMs: 1000, maxMs: 60_000 };

describe("backoffDelay", () => {
  test("grows from 1 s by doubling and is capped at 60 s (upper end of the jitter)", () => {
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i, defaultBackoff, () => 1));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  });

  test("equal jitter keeps at least half the step", () => {
    const delays = Array.from({ length: 8 }, (_, i) => backoffDelay(i, defaultBackoff, () => 0));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  test("full jitter spreads over the whole step", () => {
    expect(backoffDelay(0, defaultBackoff, () => 0, "full")).toBe(0);
    expect(backoffDelay(3, defaultBackoff, () => 0.5, "full")).toBe(4000);
    expect(backoffDelay(40, defaultBackoff, () => 1, "full")).toBe(60000);
  });

  test("huge attempt numbers do not overflow past the cap", () => {
    expect(backoffCeiling(5000, defaultBackoff)).toBe(60000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, defaultBackoff, () => 1)).toBe(60000);
  });

  test("any attempt and random value stays within [ceiling/2, ceiling] (equal) and [0, ceiling] (full)", () => {
    fc.assert(
      fc.property(fc.nat(100), fc.double({ min: -1, max: 2, noNaN: true }), (attempt, r) => {
        const ceiling = backoffCeiling(attempt, defaultBackoff);
        const equal = backoffDelay(attempt, defaultBackoff, () => r);
        const full = backoffDelay(attempt, defaultBackoff, () => r, "full");
        return equal >= Math.floor(ceiling / 2) && equal <= ceiling && full >= 0 && full <= ceiling && ceiling >= 1000 && ceiling <= 60000;
      }),
    );
  });

  test("is non-decreasing in the attempt for a fixed random value", () => {
    fc.assert(
      fc.property(
        fc.nat(60),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, r) => backoffDelay(attempt + 1, defaultBackoff, () => r) >= backoffDelay(attempt, defaultBackoff, () => r),
      ),
    );
  });
});
