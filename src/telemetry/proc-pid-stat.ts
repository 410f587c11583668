// /proc/<pid>/stat: when a process started. The command name (field 2) is in parentheses and may
// itself hold spaces and ')', so fields are counted from the last ')'.

import { fields, TelemetryParseError, uintField } from "./parse-error.ts";
import { USER_HZ } from "./proc-stat.ts";

/** Field 22, starttime: USER_HZ ticks after boot. */
export function parseProcessStartTicks(text: string, file: string): number {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new TelemetryParseError(file, 1, "no command name in parentheses");
  // After the name: field 3 (state) is index 0, so field 22 is index 19.
  return uintField(fields(text.slice(close + 1))[19], file, 1, "starttime");
}

/** The process's start as a Date, from its stat and the boot time (/proc/stat btime, seconds). */
export function processStartedAt(statText: string, file: string, bootTimeSeconds: number): Date {
  return new Date((bootTimeSeconds + parseProcessStartTicks(statText, file) / USER_HZ) * 1000);
}
