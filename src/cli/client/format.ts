// Pure text helpers for human output: tables, sizes, durations, enum names, times.

import { type DescEnum, type DescMessage, type MessageShape, toJsonString } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";

/** Columns padded to their widest cell; the last column is not padded (no trailing blanks). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** `key:  value` lines with the values aligned. */
export function fields(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return `${pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`).join("\n")}\n`;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 -> "1.5 KiB"; binary units, as free(1) -h and qemu-img use. */
export function bytes(n: number | bigint): string {
  let v = Number(n);
  let unit = 0;
  while (Math.abs(v) >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  return unit === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[unit]}`;
}

/** 93784 -> "1d 2h 3m 4s" (the two largest parts). */
export function duration(seconds: number | bigint): string {
  let s = Math.max(0, Math.floor(Number(seconds)));
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  parts.push(`${s}s`);
  return parts.slice(0, 2).join(" ");
}

export const percent = (v: number): string => `${v.toFixed(1)}%`;

/** The values' shared prefix (VM_STATE_, DISK_FORMAT_), computed once per enum. */
const prefixes = new WeakMap<DescEnum, string>();
function sharedPrefix(desc: DescEnum): string {
  let prefix = prefixes.get(desc);
  if (prefix === undefined) {
    const names = desc.values.map((v) => v.name);
    prefix = names[0] ?? "";
    for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, prefix.lastIndexOf("_", prefix.length - 2) + 1);
    prefixes.set(desc, prefix);
  }
  return prefix;
}

/** POWER_STATE_SHUTTING_DOWN -> "shutting_down"; an unknown number prints as itself. */
export function enumLabel(desc: DescEnum, value: number): string {
  const v = desc.values.find((x) => x.number === value);
  return v ? v.name.slice(sharedPrefix(desc).length).toLowerCase() : String(value);
}

/**
 * Whether a value is a choice. The contract gives most zeros a meaning (DISK_BUS_VIRTIO,
 * FIRMWARE_BIOS); only a zero named *_UNSPECIFIED or *_UNKNOWN is "not set", never typed.
 */
const choosable = (v: DescEnum["values"][number]) => v.number !== 0 || !/_(UNSPECIFIED|UNKNOWN)$/.test(v.name);

/** "running", "RUNNING", "power_state_running", "host-passthrough": the value, or undefined. */
export function parseEnum(desc: DescEnum, text: string): number | undefined {
  const wanted = text.trim().toUpperCase().replace(/-/g, "_");
  const prefix = sharedPrefix(desc);
  const v = desc.values.find((x) => choosable(x) && (x.name === wanted || x.name === prefix + wanted));
  return v?.number;
}

/** The names an operator may type, for error messages. */
export const enumChoices = (desc: DescEnum): string[] => desc.values.filter(choosable).map((v) => enumLabel(desc, v.number));

export function when(ts: Timestamp | undefined): string {
  if (!ts) return "-";
  return timestampDate(ts)
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z");
}

export const labelsText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(",") || "-";

/** "10G", "512M", "1.5GiB", "4096" (bytes) -> bytes; binary units like qemu-img. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = " kmgtp".indexOf((m[2] || " ").toLowerCase());
  const value = Number(m[1]) * 1024 ** power;
  return Number.isSafeInteger(Math.round(value)) ? Math.round(value) : undefined;
}

/** "1s", "250ms", "2m", "1.5s", "30" (seconds) -> milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * scale);
}

/**
 * Proto JSON with every field, defaults included, so scripts never meet a missing key; except
 * the fields the daemon says it could not measure (`absent`, proto paths such as "cpu.sockets"
 * from a message's absent_fields): those are left out, so a script never reads them as 0.
 */
export function jsonText<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>, absent: readonly string[] = []): string {
  const text = toJsonString(schema, message, { alwaysEmitImplicit: true });
  if (absent.length === 0) return text;
  const json = JSON.parse(text) as Record<string, unknown>;
  for (const path of absent) dropPath(schema, json, path.split("."));
  return JSON.stringify(json);
}

/** Removes one proto path (field names) from proto JSON (json names); unknown paths are ignored. */
function dropPath(desc: DescMessage, json: Record<string, unknown>, path: string[]): void {
  const [name, ...rest] = path;
  const field = desc.fields.find((f) => f.name === name);
  if (field === undefined) return;
  if (rest.length === 0) {
    delete json[field.jsonName];
    return;
  }
  const child = json[field.jsonName];
  if (field.fieldKind === "message" && child !== null && typeof child === "object") dropPath(field.message, child as Record<string, unknown>, rest);
}

/** A figure the daemon did not measure: "–", never 0. */
export const NOT_MEASURED = "–";
