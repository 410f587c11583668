// Telemetry's own benchmark (bench/telemetry.ts, by the telemetry work): one full host sample
// and one /metrics scrape. Loaded only if present, so the rest of the suite runs without it.

import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import { fmt } from "../lib/stats.ts";
import type { Section } from "./section.ts";

const SECTION = "telemetry";

interface TelemetryRow {
  name: string;
  runs: number;
  medianMs: number;
  p90Ms: number;
  budgetMs?: number;
}

export const telemetrySection: Section = {
  name: "telemetry",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const file = join(import.meta.dir, "..", "telemetry.ts");
    if (!existsSync(file)) return [skippedRow(SECTION, "host sample, /metrics scrape", "bench/telemetry.ts is not there")];
    const mod = (await import(file)) as { benchTelemetry(opts?: { runs?: number }): Promise<TelemetryRow[]> };
    const runs = ctx.mode === "smoke" ? 5 : ctx.mode === "quick" ? 100 : 500;
    const rows = await mod.benchTelemetry({ runs });
    return rows.map((r) => ({
      section: SECTION,
      name: r.name.replace(/^telemetry: /, ""),
      value: r.medianMs,
      unit: "ms",
      // A smoke run times nothing; its handful of runs would make the budget meaningless.
      ...(r.budgetMs !== undefined && ctx.mode !== "smoke" ? { budget: { op: "<=" as const, limit: r.budgetMs } } : {}),
      note: `median of ${r.runs} runs, p90 ${fmt(r.p90Ms)} ms`,
    }));
  },
};
