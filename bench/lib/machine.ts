// Describes the machine a result was measured on, for the header of bench/results.md.

import { cpus, loadavg } from "node:os";

export interface Machine {
  cores: number;
  cpuModel: string;
  date: string;
  bun: string;
  loadAverage: string;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() || "unknown",
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    bun: Bun.version,
    loadAverage: loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
  };
}
