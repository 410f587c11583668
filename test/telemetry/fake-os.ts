// A fixed os module (what node:os would say on a Mac), so tests of the fallbacks do not depend
// on the machine running them.

import type { OsFacts } from "../../src/telemetry/os-facts.ts";

export function fakeOs(over: Partial<OsFacts> = {}): OsFacts {
  return {
    platform: "darwin",
    cpus: () => [
      { model: "Apple M2", speed: 3500, times: { user: 1000, nice: 0, sys: 500, idle: 8500, irq: 0 } },
      { model: "Apple M2", speed: 3500, times: { user: 2000, nice: 0, sys: 1000, idle: 7000, irq: 0 } },
    ],
    totalmem: () => 16 * 2 ** 30,
    freemem: () => 2 * 2 ** 30,
    loadavg: () => [1.5, 1.25, 1],
    uptime: () => 3600,
    hostname: () => "laptop.local",
    release: () => "23.4.0",
    machine: () => "arm64",
    version: () => "Darwin Kernel Version 23.4.0",
    type: () => "Darwin",
    ...over,
  };
}
