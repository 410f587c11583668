// Turns one raw setting (a YAML value, an environment string or a flag) into a typed value,
// or a ConfigError naming the key as the user wrote it, the value and what is allowed.
// The file is strict about types (a quoted "9091" is a string); the environment and flags
// are strings by nature, so they are converted.

import { valueError } from "./config-error.ts";
import type { Kind, KeySpec } from "./keys.ts";
import { type Check, checkLabelKey, checkLabelValue } from "./validators.ts";

export type Layer = "file" | "env" | "flag";
export type ConfigValue = string | number | boolean | Record<string, string> | string[];

export interface Where {
  location: string;
  line: number;
  column: number;
}

/** One setting as a source gave it, before validation. */
export interface RawEntry {
  spec: KeySpec;
  /** The key as written: "listen_address", "LIMIQUANTIX_LOG_LEVEL", "--listen". */
  label: string;
  raw: unknown;
  where?: Where;
}

const TRUE = /^(true|1|yes|on)$/i;
const FALSE = /^(false|0|no|off)$/i;

export function parseValue(entry: RawEntry, layer: Layer): ConfigValue {
  const { spec, label, raw, where } = entry;
  const fail = (problem: string, allowed: string) => valueError(label, raw, problem, allowed, where);
  const kind: Kind = spec.kind;

  switch (kind.type) {
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (layer !== "file" && typeof raw === "string") {
        if (TRUE.test(raw)) return true;
        if (FALSE.test(raw)) return false;
        throw fail("is not a boolean (true/false, 1/0, yes/no, on/off)", "true or false (also 1/0, yes/no, on/off)");
      }
      // YAML 1.2 reads `yes` as a string: say so instead of guessing.
      throw fail("is not a boolean (write true or false, unquoted)", "true or false (unquoted)");
    }
    case "int": {
      const allowed = `an integer from ${kind.min} to ${kind.max}${layer === "file" ? " (unquoted)" : ""}`;
      let n: number | undefined;
      if (typeof raw === "number") n = raw;
      else if (layer !== "file" && typeof raw === "string" && /^\d+$/.test(raw.trim())) n = Number(raw.trim());
      if (n === undefined || !Number.isInteger(n) || n < kind.min || n > kind.max) {
        const quoted = layer === "file" && typeof raw === "string" ? " (write it without quotes)" : "";
        throw fail(`is not an integer from ${kind.min} to ${kind.max}${quoted}`, allowed);
      }
      return n;
    }
    case "enum": {
      const allowed = `one of: ${kind.values.join(", ")}`;
      if (typeof raw !== "string") throw fail(`is not ${allowed}`, allowed);
      const v = raw.trim().toLowerCase();
      if (!kind.values.includes(v)) throw fail(`is not ${allowed}`, allowed);
      return v;
    }
    case "string": {
      if (typeof raw !== "string") {
        const probe = kind.check("");
        const allowed = probe.ok ? "a string" : probe.allowed;
        throw fail(`is not a string (expected ${allowed})`, allowed);
      }
      const checked = kind.check(raw.trim());
      if (!checked.ok) throw fail(checked.problem, checked.allowed);
      return checked.value;
    }
    case "labels":
      return parseLabels(entry, layer);
    case "list":
      return parseList(entry, layer, kind.check);
  }
}

/** A YAML sequence of strings, or a comma-separated string from the environment or a flag. */
function parseList(entry: RawEntry, layer: Layer, check: (s: string) => Check<string>): string[] {
  const { label, raw, where } = entry;
  const probe = check("");
  const itemAllowed = probe.ok ? "strings" : probe.allowed;
  const allowed = layer === "file" ? `a list of ${itemAllowed}, e.g. [a, b]` : `values separated by commas (${itemAllowed})`;
  let items: unknown[];
  if (layer === "file") {
    if (!Array.isArray(raw)) throw valueError(label, raw, "is not a list", allowed, where);
    items = raw;
  } else {
    if (typeof raw !== "string") throw valueError(label, raw, `is not a string (expected ${allowed})`, allowed, where);
    items = raw
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "");
  }
  return items.map((item, i) => {
    const sub = `${label}[${i}]`;
    if (typeof item !== "string") throw valueError(sub, item, "is not a string", allowed, where);
    const checked = check(item.trim());
    if (!checked.ok) throw valueError(sub, item, checked.problem, checked.allowed, where);
    return checked.value;
  });
}

function parseLabels(entry: RawEntry, layer: Layer): Record<string, string> {
  const { label, raw, where } = entry;
  const allowed = layer === "file" ? "a mapping of label names to values, e.g. {rack: A1}" : "name=value pairs separated by commas, e.g. rack=A1,zone=z1";
  let pairs: [string, unknown][];
  if (layer === "file") {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw valueError(label, raw, "is not a mapping of label names to values", allowed, where);
    }
    pairs = Object.entries(raw);
  } else {
    if (typeof raw !== "string") throw valueError(label, raw, `is not a string (expected ${allowed})`, allowed, where);
    pairs = [];
    for (const part of raw
      .split(",")
      .map((p) => p.trim())
      .filter((p) => p !== "")) {
      const eq = part.indexOf("=");
      if (eq <= 0) throw valueError(label, raw, `has ${JSON.stringify(part)}, which is not name=value`, allowed, where);
      pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  }
  const labels: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const sub = layer === "file" ? `${label}.${name}` : `${label} (${name})`;
    const nameCheck = checkLabelKey(name);
    if (!nameCheck.ok) throw valueError(sub, name, nameCheck.problem, nameCheck.allowed, where);
    // Scalars are fine as label values (rack: 1); structures are not.
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw valueError(sub, value, "is not a label value (expected a string, number or boolean)", "a string, number or boolean", where);
    }
    const valueCheck = checkLabelValue(String(value));
    if (!valueCheck.ok) throw valueError(sub, value, valueCheck.problem, valueCheck.allowed, where);
    labels[name] = valueCheck.value;
  }
  return labels;
}
