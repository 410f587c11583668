// /proc/net/dev: per-interface byte, packet, error and drop counters. Interface names are up to
// 15 characters and never contain ":" (the kernel refuses such names), so the first ":" ends
// the name even when an old kernel glued the first counter to it ("eth0:1234").

import type { NetInterfaceSample } from "./types.ts";
import { type HostIo, type HostRoots, procPath } from "./host-io.ts";
import { fields, lines, TelemetryParseError, uintField } from "./parse-error.ts";

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

/**
 * /proc/net/dev. Text made only of well-formed lines is read in one pass with regular
 * expressions (compiled to machine code once, where per-line string work runs cold at one sample
 * a second, with a line per VM NIC); anything else goes to the line-by-line reader, which says
 * what is wrong and where.
 */
export function parseNetDev(text: string, file = "/proc/net/dev"): NetInterfaceSample[] {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  const out: NetInterfaceSample[] = [];
  for (let at = 0; at < body.length; ) {
    INTERFACE_LINE.lastIndex = at;
    const m = INTERFACE_LINE.exec(body);
    if (m !== null) {
      const sample = { name: m[1] as string } as NetInterfaceSample;
      NAMES.forEach((key, k) => {
        sample[key] = Number(m[k + 2]);
      });
      out.push(sample);
      at = INTERFACE_LINE.lastIndex;
      continue;
    }
    HEADER_LINE.lastIndex = at;
    if (HEADER_LINE.exec(body) === null) return parseNetDevLines(text, file);
    at = HEADER_LINE.lastIndex;
  }
  return out;
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
