// Reading the host source by source: a source that fails costs only the figures it feeds, and its
// failure is logged once (when it starts failing or its reason changes) and once more when it
// reads again, however often the host is sampled.

import type { Logger } from "../common/logger.ts";
import { TelemetryParseError } from "./parse-error.ts";
import type { SourceStatus } from "./types.ts";

const ERRNO_REASONS: Record<string, string> = {
  ENOENT: "no such file",
  ENOTDIR: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
};

/** Why a read failed, in a few words: the parser's message names the file and line already. */
export function failureReason(err: unknown): string {
  if (err instanceof TelemetryParseError) return `${err.line === undefined ? "" : `line ${err.line}: `}${err.reason}`;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && ERRNO_REASONS[code] !== undefined) return ERRNO_REASONS[code];
  return err instanceof Error ? err.message : String(err);
}

/** Reads one source and records how it went (in call order); undefined when it failed. */
export async function attempt<T>(into: SourceStatus[], source: string, effect: string, read: () => Promise<T>): Promise<T | undefined> {
  const slot = into.push({ source }) - 1;
  try {
    return await read();
  } catch (err) {
    into[slot] = { source, error: failureReason(err), effect };
    return undefined;
  }
}

export interface SourceLog {
  /** Logs what started failing and what recovered since the last report. */
  report(statuses: SourceStatus[]): void;
}

export function createSourceLog(log: Logger | undefined): SourceLog {
  const failing = new Map<string, string>();
  return {
    report(statuses) {
      const started: string[] = [];
      const recovered: string[] = [];
      for (const s of statuses) {
        const before = failing.get(s.source);
        if (s.error === undefined) {
          if (before !== undefined) {
            failing.delete(s.source);
            recovered.push(s.source);
          }
        } else if (before !== s.error) {
          failing.set(s.source, s.error);
          started.push(`${s.source} (${s.error}): ${s.effect ?? "its figures are absent"}`);
        }
      }
      if (started.length) log?.warn(`host figures degraded: ${started.join("; ")}`);
      if (recovered.length) log?.info(`host figures restored: ${recovered.join(", ")} readable again`);
    },
  };
}
