// The text of bench/results.md: where and how it was measured, then the table.

import type { Mode } from "./context.ts";
import type { Machine } from "./machine.ts";
import { type BenchRow, rowsToMarkdown, verdict } from "./rows.ts";

export interface Results {
  machine: Machine;
  loadAfter: string;
  mode: Mode;
  totalS: number;
  rows: BenchRow[];
}

export function renderResults(r: Results): string {
  const budgets = r.rows.filter((row) => row.budget && !row.skipped);
  const held = budgets.filter((row) => verdict(row) === "ok").length;
  return [
    "# Benchmark results",
    "",
    `Measured ${r.machine.date} with \`bun run bench${r.mode === "full" ? "" : ` --${r.mode}`}\` in ${r.totalS.toFixed(0)} s.`,
    "",
    `- machine: ${r.machine.cores} cores, ${r.machine.cpuModel}; load average ${r.machine.loadAverage} before, ${r.loadAfter} after`,
    `- runtime: Bun ${r.machine.bun}; load generator: h2load (nghttp2-client), servers in their own processes`,
    `- budgets: ${held} of ${budgets.length} held${r.rows.some((row) => row.failed) ? "; some benchmarks FAILED (see notes)" : ""}`,
    "",
    rowsToMarkdown(r.rows),
    "",
  ].join("\n");
}
