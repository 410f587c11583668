// The migration percentage from libvirt's job figures: (total - remaining) / total. The figures
// below are a real job's samples (a 2 GiB guest of mostly zero pages, 2 MiB/s), where
// processed / total stayed at 0 % the whole time.

import { describe, expect, test } from "bun:test";
import { jobPercent } from "../../../src/hypervisor/libvirt/migration.ts";

const TOTAL = 2165121024;

describe("jobPercent", () => {
  test("tracks remaining, not processed", () => {
    const samples = [
      { processed: 628861, remaining: 1970253824, percent: 9 },
      { processed: 2726121, remaining: 1015803904, percent: 53 },
      { processed: 5667300, remaining: 17027072, percent: 99 },
    ];
    for (const s of samples) {
      expect(jobPercent(TOTAL, s.remaining)).toBe(s.percent);
      expect(Math.floor((s.processed / TOTAL) * 100)).toBe(0);
    }
  });

  test("no figures yet, nothing left, and figures out of range", () => {
    expect(jobPercent(0, 0)).toBe(0);
    expect(jobPercent(TOTAL, TOTAL)).toBe(0);
    // Done only when libvirt says the job completed: 99 at most before.
    expect(jobPercent(TOTAL, 0)).toBe(99);
    // Remaining above total (memory dirtied faster than sent) is 0 %, never negative.
    expect(jobPercent(TOTAL, TOTAL * 2)).toBe(0);
    expect(jobPercent(TOTAL, -1)).toBe(99);
  });
});
