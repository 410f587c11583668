#!/usr/bin/env bun
// `bun run bench`: every benchmark in one run, written as a Markdown table to bench/results.md.
// Exits 1 when a budget is missed or a benchmark fails (smoke mode: only when one fails).
// Servers under test run in their own processes; load comes from h2load (nghttp2-client).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseBenchArgs, USAGE } from "./lib/args.ts";
import { createContext } from "./lib/context.ts";
import { describeMachine } from "./lib/machine.ts";
import { type BenchRow, failedRow, rowsToText, verdict } from "./lib/rows.ts";
import { renderResults } from "./lib/results-md.ts";
import { SECTIONS } from "./sections/index.ts";

const args = (() => {
  try {
    return parseBenchArgs(process.argv.slice(2), join(import.meta.dir, "results.md"));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
if (args.help) {
  console.log(`${USAGE}\nsections: ${SECTIONS.map((s) => s.name).join(", ")}`);
  process.exit(0);
}
const unknown = (args.only ?? []).filter((n) => !SECTIONS.some((s) => s.name === n));
if (unknown.length) {
  console.error(`bench: unknown section ${unknown.join(", ")}; sections: ${SECTIONS.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const machineBefore = describeMachine();
const started = performance.now();
const log = (m: string) => console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${m}`);
const ctx = createContext(args.mode, log);
const rows: BenchRow[] = [];
let interrupted = false;
process.on("SIGINT", () => {
  interrupted = true;
  void ctx.close().finally(() => process.exit(130));
});

try {
  for (const section of SECTIONS) {
    if (args.only && !args.only.includes(section.name)) continue;
    log(`${section.name} ...`);
    try {
      const got = await section.run(ctx);
      rows.push(...got);
      console.error(rowsToText(got));
    } catch (err) {
      log(`${section.name} failed: ${(err as Error).stack ?? err}`);
      rows.push(failedRow(section.name, err));
    }
    if (interrupted) break;
  }
} finally {
  await ctx.close();
}

const totalS = (performance.now() - started) / 1000;
const markdown = renderResults({ machine: machineBefore, loadAfter: describeMachine().loadAverage, mode: args.mode, totalS, rows });
if (args.out) {
  writeFileSync(args.out, markdown);
  log(`wrote ${args.out}`);
}
console.log(markdown);
const missed = rows.filter((r) => verdict(r) === "MISSED" || verdict(r) === "FAILED");
const failing = args.mode === "smoke" ? missed.filter((r) => r.failed) : missed;
if (failing.length) {
  console.error(`bench: ${failing.length} budget(s) missed or benchmark(s) failed: ${failing.map((r) => `${r.section}: ${r.name}`).join("; ")}`);
  process.exit(1);
}
process.exit(0);
