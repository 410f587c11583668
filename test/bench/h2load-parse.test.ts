// The parsers behind every load figure: h2load's summary and per-request log, and the stats.

import { describe, expect, test } from "bun:test";
import { grpcFrame } from "../../bench/lib/grpc-body.ts";
import { parseH2loadSummary, parseLatencies } from "../../bench/lib/h2load.ts";
import { type BenchRow, rowsToMarkdown, verdict } from "../../bench/lib/rows.ts";
import { median, quantile } from "../../bench/lib/stats.ts";

// Captured from nghttp2 1.52's h2load against the daemon.
const SUMMARY = `finished in 3.01s, 6649.48 req/s, 389.80KB/s
requests: 20000 total, 20000 started, 20000 done, 19990 succeeded, 10 failed, 0 errored, 0 timeout
status codes: 20000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 1.14MB (1200552) total, 59.02KB (60436) headers (space savings 96.08%), 566.41KB (580000) data
                     min         max         mean         sd        +/- sd
time for request:      429us     49.02ms      5.98ms      3.42ms    87.04%`;

describe("h2load output", () => {
  test("the summary gives req/s, successes, failures and DATA bytes per success", () => {
    expect(parseH2loadSummary(SUMMARY)).toEqual({ reqPerSec: 6649.48, succeeded: 19990, failed: 10, dataBytesPerRequest: 580000 / 19990 });
  });

  test("a summary it cannot read is an error quoting it", () => {
    expect(() => parseH2loadSummary("connect failed")).toThrow(/cannot read h2load's summary:\nconnect failed/);
  });

  test("the request log gives latencies in ms of 2xx answers only", () => {
    expect(parseLatencies("1700000000000000\t200\t1500\n1700000000000100\t503\t90\n1700000000000200\t200\t250\n")).toEqual([1.5, 0.25]);
  });
});

describe("stats and rows", () => {
  test("median averages the middle pair; quantile is nearest-rank; no samples is NaN", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(median([])).toBeNaN();
  });

  test("verdicts follow the budget's direction; a NaN value misses it", () => {
    const row = (value: number, op: ">=" | "<="): BenchRow => ({ section: "s", name: "n", value, unit: "x", budget: { op, limit: 1 } });
    expect(verdict(row(1.2, ">="))).toBe("ok");
    expect(verdict(row(0.8, ">="))).toBe("MISSED");
    expect(verdict(row(0.8, "<="))).toBe("ok");
    expect(verdict(row(Number.NaN, "<="))).toBe("MISSED");
    expect(verdict({ section: "s", name: "n", value: 3, unit: "" })).toBe("");
  });

  test("the Markdown table escapes pipes and leaves skipped values empty", () => {
    const md = rowsToMarkdown([{ section: "a|b", name: "n", value: Number.NaN, unit: "", note: "skipped: x", skipped: true }]);
    expect(md.split("\n")[2]).toBe("| a\\|b | n |  |  |  | skipped | skipped: x |");
  });

  test("a gRPC frame is flag 0, big-endian length, then the message", () => {
    expect([...grpcFrame(new Uint8Array([7, 8, 9]))]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
  });
});
