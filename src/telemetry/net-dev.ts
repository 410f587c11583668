// /proc/net/dev: per-interface byte, packet, error and drop counters. Interface names are up to
// 15 characters and never contain ":" (the kernel refuses such names), so the first ":" ends
// the name even when an old kernel glued the first counter to it ("eth0:1234").

import type { NetInterfaceSample } from "./types.ts";
import { type HostIo, type HostRoots, procPath } from "./host-io.ts";
import { fields, lines, readWellFormedLines, TelemetryParseError, uintField } from "./parse-error.ts";

const NAMES = [
  "rxBytes",
  "rxPackets",
  "rxErrors",
  "rxDropped",
  "rxFifo",
  "rxFrame",
  "rxCompressed",
  "rxMulticast",
  "txBytes",
  "txPackets",
  "txErrors",
  "txDropped",
  "txFifo",
  "txCollisions",
  "txCarrier",
  "txCompressed",
] as const;

/** A well-formed interface line: the name, its colon, the 16 counters. */
const INTERFACE_LINE = new RegExp(` *([^:\\s|]+): *${NAMES.map(() => "(\\d+)").join(" +")}[ \\t]*\\n`, "y");
/** One of the two header lines: a "|", no ":". */
const HEADER_LINE = /[^\n:]*\|[^\n:]*\n/y;

/** /proc/net/dev (a line per VM NIC), in one pass when well formed (readWellFormedLines), else line by line. */
export function parseNetDev(text: string, file = "/proc/net/dev"): NetInterfaceSample[] {
  const out: NetInterfaceSample[] = [];
  const wellFormed = readWellFormedLines(text, [INTERFACE_LINE, HEADER_LINE], (m, which) => {
    if (which !== 0) return;
    const sample = { name: m[1] as string } as NetInterfaceSample;
    NAMES.forEach((key, k) => {
      sample[key] = Number(m[k + 2]);
    });
    out.push(sample);
  });
  return wellFormed ? out : parseNetDevLines(text, file);
}

/** parseNetDev line by line: the reference for what is accepted, and the errors. */
export function parseNetDevLines(text: string, file = "/proc/net/dev"): NetInterfaceSample[] {
  const out: NetInterfaceSample[] = [];
  lines(text).forEach((line, i) => {
    const n = i + 1;
    // The two header lines ("Inter-|   Receive ..." and " face |bytes ...") have "|", no ":".
    if (line.includes("|") && !line.includes(":")) return;
    if (line.trim() === "") return;
    const colon = line.indexOf(":");
    if (colon < 0) throw new TelemetryParseError(file, n, `no "name:" in ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    if (name === "") throw new TelemetryParseError(file, n, "empty interface name");
    const f = fields(line.slice(colon + 1));
    if (f.length < 16) throw new TelemetryParseError(file, n, `${name}: expected 16 counters, got ${f.length}`);
    const sample = { name } as NetInterfaceSample;
    NAMES.forEach((key, k) => {
      sample[key] = uintField(f[k], file, n, `${name} ${key}`);
    });
    out.push(sample);
  });
  return out;
}

export async function readNetDev(io: HostIo, roots: HostRoots): Promise<NetInterfaceSample[]> {
  const file = procPath(roots, "net/dev");
  return parseNetDev(await io.readText(file), file);
}
