// The friendly VM spec of a YAML or JSON file -> proto JSON of VMSpec. Driven by the message
// descriptors, so the file follows node_daemon.proto without a second copy of its shape: keys in
// snake_case or camelCase, enums by their short names (qcow2, virtio, host-passthrough), sizes
// with units (size: 10G). Only the shape is checked here, naming the field; the rules
// (ranges, names, uniqueness) are the API's own, applied afterwards by spec-file.ts.

import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { enumChoices, parseEnum, parseSize } from "./format.ts";

export class SpecShapeError extends Error {
  override readonly name = "SpecShapeError";
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field}: ${rule}`);
  }
}

const MIB = 1024 * 1024;

/** Fields that also take a size with a unit, and the unit the proto field counts in. */
const SIZE_FIELDS: Record<string, number> = {
  "limiquantix.node.v1.MemorySpec.size_mib": MIB,
  "limiquantix.node.v1.NewDiskImage.size_bytes": 1,
};

/** Friendlier spellings: `size` for the size fields. */
const ALIASES: Record<string, Record<string, string>> = {
  "limiquantix.node.v1.MemorySpec": { size: "size_mib" },
  "limiquantix.node.v1.NewDiskImage": { size: "size_bytes" },
};

const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function findField(desc: DescMessage, key: string): DescField | undefined {
  const alias = ALIASES[desc.typeName]?.[key] ?? ALIASES[desc.typeName]?.[snake(key)];
  const name = alias ?? snake(key);
  return desc.fields.find((f) => f.name === name || f.jsonName === key);
}

function enumValue(desc: DescEnum, v: unknown, path: string): string {
  const n = typeof v === "string" ? parseEnum(desc, v) : undefined;
  if (n === undefined) throw new SpecShapeError(path, `must be one of ${enumChoices(desc).join(", ")}; got ${typeName(v)}`);
  return desc.values.find((x) => x.number === n)!.name;
}

function sizeValue(v: unknown, unit: number, path: string): string {
  const raw = typeof v === "number" ? (Number.isSafeInteger(v) && v >= 0 ? v * unit : undefined) : typeof v === "string" ? parseSize(v) : undefined;
  const example = unit === MIB ? "2048 (MiB) or 2G" : "10737418240 (bytes) or 10G";
  if (raw === undefined) throw new SpecShapeError(path, `must be a size like ${example}; got ${typeName(v)}`);
  if (raw % unit !== 0) throw new SpecShapeError(path, `must be a whole number of MiB; got ${typeName(v)}`);
  return String(raw / unit);
}

function scalarValue(type: ScalarType, v: unknown, path: string): unknown {
  switch (type) {
    case ScalarType.STRING:
      if (typeof v === "string") return v;
      // YAML reads `network: 10` or `password: 1234` as numbers; the author meant the text.
      if (typeof v === "number" && Number.isFinite(v)) return String(v);
      throw new SpecShapeError(path, `must be a string; got ${typeName(v)}`);
    case ScalarType.BOOL:
      if (typeof v !== "boolean") throw new SpecShapeError(path, `must be true or false; got ${typeName(v)}`);
      return v;
    case ScalarType.UINT32:
    case ScalarType.UINT64:
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
        throw new SpecShapeError(path, `must be a whole number >= 0; got ${typeName(v)}`);
      }
      return type === ScalarType.UINT64 ? String(v) : v;
    default:
      throw new SpecShapeError(path, "has a type this client cannot read from a file");
  }
}

function fieldValue(field: DescField, v: unknown, path: string): unknown {
  const unit = SIZE_FIELDS[`${field.parent.typeName}.${field.name}`];
  if (unit !== undefined) return sizeValue(v, unit, path);
  switch (field.fieldKind) {
    case "scalar":
      return scalarValue(field.scalar, v, path);
    case "enum":
      return enumValue(field.enum, v, path);
    case "message":
      return toProtoJson(field.message, v, path);
    case "list": {
      if (!Array.isArray(v)) throw new SpecShapeError(path, `must be a list; got ${typeName(v)}`);
      return v.map((item, i) => {
        const p = `${path}[${i}]`;
        if (field.listKind === "message") return toProtoJson(field.message, item, p);
        if (field.listKind === "enum") return enumValue(field.enum, item, p);
        return scalarValue(field.scalar, item, p);
      });
    }
    case "map": {
      if (!isObject(v)) throw new SpecShapeError(path, `must be a mapping of name: value; got ${typeName(v)}`);
      if (field.mapKind !== "scalar") throw new SpecShapeError(path, "has a type this client cannot read from a file");
      // Map keys (label names) are data: kept exactly as written.
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scalarValue(field.scalar, x, `${path}[${JSON.stringify(k)}]`)]));
    }
  }
}

/** The friendly object at `path` as proto JSON of `desc` (proto field names, enum names, u64 as strings). */
export function toProtoJson(desc: DescMessage, value: unknown, path: string): Record<string, unknown> {
  if (!isObject(value)) throw new SpecShapeError(path, `must be a mapping of fields; got ${typeName(value)}`);
  const out: Record<string, unknown> = {};
  const oneofs = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    const field = findField(desc, key);
    const p = `${path}.${key}`;
    if (!field) {
      const known = desc.fields.map((f) => f.name).concat(Object.keys(ALIASES[desc.typeName] ?? {}));
      throw new SpecShapeError(p, `unknown field; known fields here: ${known.join(", ")}`);
    }
    if (v === null || v === undefined) continue; // `backing_path:` with nothing after it: unset
    if (field.name in out) throw new SpecShapeError(p, `is given twice (as ${field.name} and ${key})`);
    if (field.oneof) {
      const other = oneofs.get(field.oneof.name);
      if (other !== undefined) throw new SpecShapeError(`${path}.${field.oneof.name}`, `set only one of ${other} and ${field.name}`);
      oneofs.set(field.oneof.name, field.name);
    }
    out[field.name] = fieldValue(field, v, p);
  }
  return out;
}
