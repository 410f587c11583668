// /proc/uptime: "315.34 586.57" (seconds up, idle seconds summed over CPUs).

import { type HostIo, type HostRoots, procPath } from "./host-io.ts";
import { decimalField, fields, lines, TelemetryParseError } from "./parse-error.ts";

export interface Uptime {
  uptimeSeconds: number;
  idleSeconds?: number;
}

export function parseUptime(text: string, file = "/proc/uptime"): Uptime {
  const first = lines(text)[0];
  if (first === undefined) throw new TelemetryParseError(file, 1, "empty file");
  const [up, idle] = fields(first);
  return {
    uptimeSeconds: decimalField(up, file, 1, "uptime"),
    idleSeconds: idle === undefined ? undefined : decimalField(idle, file, 1, "idle"),
  };
}

export async function readUptime(io: HostIo, roots: HostRoots): Promise<Uptime> {
  const file = procPath(roots, "uptime");
  return parseUptime(await io.readText(file), file);
}
