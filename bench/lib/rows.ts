// One result row of the suite, and the Markdown it is written as. A row with a budget says
// whether it held; rows without one are figures for reading.

import { fmt } from "./stats.ts";

export interface Budget {
  /** ">=" : the value must be at least limit; "<=" : at most. */
  op: ">=" | "<=";
  limit: number;
}

export interface BenchRow {
  section: string;
  name: string;
  /** NaN when the measurement could not be made (see note). */
  value: number;
  unit: string;
  budget?: Budget;
  /** How it was measured, p50/p99, ratios, or why it was skipped. */
  note?: string;
  skipped?: boolean;
  /** The measurement itself broke (note says how); always fails the run. */
  failed?: boolean;
}

export type Verdict = "ok" | "MISSED" | "FAILED" | "skipped" | "";

export function verdict(row: BenchRow): Verdict {
  if (row.failed) return "FAILED";
  if (row.skipped) return "skipped";
  if (!row.budget) return "";
  if (!Number.isFinite(row.value)) return "MISSED";
  return (row.budget.op === ">=" ? row.value >= row.budget.limit : row.value <= row.budget.limit) ? "ok" : "MISSED";
}

export function skippedRow(section: string, name: string, why: string): BenchRow {
  return { section, name, value: Number.NaN, unit: "", note: `skipped: ${why}`, skipped: true };
}

export function failedRow(section: string, err: unknown): BenchRow {
  const message = err instanceof Error ? err.message : String(err);
  return { section, name: "(section failed)", value: Number.NaN, unit: "", note: message.split("\n")[0]!.slice(0, 300), failed: true };
}

const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");

export function rowsToMarkdown(rows: BenchRow[]): string {
  const lines = ["| section | benchmark | value | unit | budget | verdict | notes |", "|---|---|--:|---|---|---|---|"];
  for (const r of rows) {
    const budget = r.budget ? `${r.budget.op} ${fmt(r.budget.limit)}` : "";
    const value = r.skipped || r.failed ? "" : fmt(r.value);
    lines.push(`| ${cell(r.section)} | ${cell(r.name)} | ${value} | ${cell(r.unit)} | ${budget} | ${verdict(r)} | ${cell(r.note ?? "")} |`);
  }
  return lines.join("\n");
}

/** A plain-text table for the terminal. */
export function rowsToText(rows: BenchRow[]): string {
  const body = rows.map((r) => [
    `${r.section}: ${r.name}`,
    r.skipped || r.failed ? "" : `${fmt(r.value)} ${r.unit}`,
    r.budget ? `${r.budget.op} ${fmt(r.budget.limit)}` : "",
    verdict(r),
    r.note ?? "",
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...body.map((b) => b[i]!.length), 1));
  return body.map((b) => b.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join("  ")).join("\n");
}
