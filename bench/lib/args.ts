// Command line of `bun run bench`.

import type { Mode } from "./context.ts";

export interface BenchArgs {
  mode: Mode;
  /** Section names to run; undefined: all. */
  only?: string[];
  /** Where the Markdown table goes. */
  out: string;
  help: boolean;
}

export const USAGE = `usage: bun run bench [--quick | --smoke] [--only name,...] [--out FILE]
  --quick   shorter runs, fewer repeats (about 3 minutes)
  --smoke   a handful of requests per benchmark; proves the suite works, checks no budget
  --only    run only these sections
  --out     Markdown table (default bench/results.md; smoke: not written unless given)`;

export function parseBenchArgs(argv: string[], defaultOut: string): BenchArgs {
  let mode: Mode = "full";
  let only: string[] | undefined;
  let out: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--quick") mode = "quick";
    else if (arg === "--smoke") mode = "smoke";
    else if (arg === "--only")
      only = value()
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    else if (arg.startsWith("--only="))
      only = arg
        .slice(7)
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    else if (arg === "--out") out = value();
    else if (arg === "--help" || arg === "-h") help = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return { mode, ...(only ? { only } : {}), out: out ?? (mode === "smoke" ? "" : defaultOut), help };
}
