// For tests over a full /proc tree (a fixture or the real host): asserts the figures every Linux
// host has are present and narrows the sample's type to say so.

import type { HostSample } from "../../src/telemetry/types.ts";

export type CompleteSample = HostSample & Required<Pick<HostSample, "cpu" | "memory" | "load" | "uptimeSeconds" | "disks" | "network">>;

export function complete(s: HostSample): CompleteSample {
  for (const key of ["cpu", "memory", "load", "uptimeSeconds", "disks", "network"] as const) {
    if (s[key] === undefined) throw new Error(`sample has no ${key}`);
  }
  return s as CompleteSample;
}
