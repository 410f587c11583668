// /proc/loadavg: "0.01 0.08 0.04 1/91 5791".

import type { LoadSample } from "./types.ts";
import { type HostIo, type HostRoots, procPath } from "./host-io.ts";
import { decimalField, fields, lines, TelemetryParseError, uintField } from "./parse-error.ts";

export function parseLoadAvg(text: string, file = "/proc/loadavg"): LoadSample {
  const first = lines(text)[0];
  if (first === undefined) throw new TelemetryParseError(file, 1, "empty file");
  const f = fields(first);
  if (f.length < 3) throw new TelemetryParseError(file, 1, `expected at least 3 fields, got ${f.length}`);
  const sample: LoadSample = {
    load1: decimalField(f[0], file, 1, "load1"),
    load5: decimalField(f[1], file, 1, "load5"),
    load15: decimalField(f[2], file, 1, "load15"),
  };
  const tasks = f[3];
  if (tasks !== undefined) {
    const [runnable, threads, extra] = tasks.split("/");
    if (extra !== undefined) throw new TelemetryParseError(file, 1, `bad runnable/threads ${JSON.stringify(tasks)}`);
    sample.runnable = uintField(runnable, file, 1, "runnable");
    sample.threads = uintField(threads, file, 1, "threads");
  }
  return sample;
}

export async function readLoadAvg(io: HostIo, roots: HostRoots): Promise<LoadSample> {
  const file = procPath(roots, "loadavg");
  return parseLoadAvg(await io.readText(file), file);
}
