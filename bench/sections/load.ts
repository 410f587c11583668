// The mixed load test (bench/load.ts: every RPC, streams opened and cancelled, memory growth),
// included when that file is there. Its figures include its own clients (same process).

import { existsSync } from "node:fs";
import { join } from "node:path";
import { startChild } from "../lib/child.ts";
import type { BenchContext } from "../lib/context.ts";
import { type BenchRow, skippedRow } from "../lib/rows.ts";
import type { Section } from "./section.ts";

export const loadSection: Section = {
  name: "load",
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    if (!existsSync(join(import.meta.dir, "..", "load.ts"))) return [skippedRow("load", "mixed RPC load", "bench/load.ts is not there")];
    const seconds = ctx.mode === "smoke" ? 2 : ctx.mode === "quick" ? 6 : 15;
    const child = await startChild<{ rows: BenchRow[]; ok: boolean }>("load.ts", [String(seconds)], (seconds + 60) * 1000);
    await child.stop();
    return child.info.rows.map((r) => ({
      ...r,
      // A smoke run is too short to judge memory growth; its errors still count.
      ...(ctx.mode === "smoke" && r.name.includes("growth") ? { budget: undefined } : {}),
    }));
  },
};
