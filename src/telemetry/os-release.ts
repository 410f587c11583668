// /etc/os-release (falling back to /usr/lib/os-release, as systemd specifies): shell-style
// KEY=value lines, values optionally quoted.

import { join } from "node:path";
import type { HostIo, HostRoots } from "./host-io.ts";
import { readOptional } from "./host-io.ts";
import { lines, TelemetryParseError } from "./parse-error.ts";

export function parseOsRelease(text: string, file = "/etc/os-release"): Map<string, string> {
  const out = new Map<string, string>();
  lines(text).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const m = /^([A-Za-z0-9_]+)=(.*)$/.exec(trimmed);
    if (m === null) throw new TelemetryParseError(file, i + 1, `not KEY=value: ${JSON.stringify(line)}`);
    out.set(m[1] as string, unquote(m[2] as string, file, i + 1));
  });
  return out;
}

function unquote(raw: string, file: string, line: number): string {
  const q = raw[0];
  if (q !== '"' && q !== "'") return raw;
  if (raw.length < 2 || raw[raw.length - 1] !== q) throw new TelemetryParseError(file, line, `unterminated quote in ${raw}`);
  const body = raw.slice(1, -1);
  // Inside double quotes the shell unescapes \" \\ \$ \`; single quotes are literal.
  return q === '"' ? body.replace(/\\(["\\$`])/g, "$1") : body;
}

export interface OsName {
  name: string;
  /** Absent for rolling releases (Arch has no VERSION_ID) and without os-release. */
  version?: string;
}

export function osNameOf(release: Map<string, string> | undefined): OsName {
  const name = release?.get("NAME") ?? release?.get("ID") ?? "Linux";
  const version = release?.get("VERSION_ID") ?? release?.get("VERSION");
  return version === undefined ? { name } : { name, version };
}

export async function readOsRelease(io: HostIo, roots: HostRoots): Promise<Map<string, string> | undefined> {
  const primary = join(roots.etc, "os-release");
  const text = await readOptional(io, primary);
  if (text !== undefined) return parseOsRelease(text, primary);
  const fallback = join(roots.etc, "..", "usr/lib/os-release");
  const other = await readOptional(io, fallback);
  return other === undefined ? undefined : parseOsRelease(other, fallback);
}
