// The kernel's CPU list format ("0-3,8,10-11"), used by /sys/devices/system/cpu/{online,present}
// and /sys/devices/system/node/online.

import { TelemetryParseError } from "./parse-error.ts";

export function parseCpuList(text: string, file: string): number[] {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const out: number[] = [];
  for (const part of trimmed.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new TelemetryParseError(file, 1, `bad CPU list element ${JSON.stringify(part)}`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new TelemetryParseError(file, 1, `descending range ${JSON.stringify(part)}`);
    for (let c = from; c <= to; c++) out.push(c);
  }
  return out;
}
