// The friendly VM spec of a YAML or JSON file -> proto JSON of CreateVMOnNodeRequest. The file is
// the contract's VMSpec with the request's vm_id, name and labels beside its fields at the top.
// Driven by the message descriptors, so the file follows node_daemon.proto without a second copy
// of its shape: keys in snake_case or camelCase, enums by their short names (sata, uefi,
// host-passthrough), and two sizes with units: `memory: 2G` (for memory_mib) and a disk's
// `size: 10G` (for size_gib, rounded up to whole GiB). Only the shape is checked here, naming
// the field; the rules (ranges, names, uniqueness) are the API's own, applied by spec-file.ts.

import { type DescEnum, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { CreateVMOnNodeRequestSchema, VMSpecSchema } from "../../gen/limiquantix/node/v1/node_daemon_pb.ts";
import { enumChoices, parseEnum, parseSize } from "./format.ts";

export class SpecShapeError extends Error {
  override readonly name = "SpecShapeError";
  constructor(
    readonly field: string,
    readonly rule: string,
  ) {
    super(field ? `${field}: ${rule}` : rule);
  }
}

const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/** A friendly key that stands for a proto field and takes a size with a unit. */
interface SizeAlias {
  field: string;
  unit: number;
  /** Round up to the unit (disk sizes) instead of refusing a remainder (memory). */
  roundUp: boolean;
  example: string;
}

const SIZE_ALIASES: Record<string, Record<string, SizeAlias>> = {
  "limiquantix.node.v1.VMSpec": { memory: { field: "memory_mib", unit: MIB, roundUp: false, example: "2G or 512M (or memory_mib: 2048)" } },
  "limiquantix.node.v1.DiskSpec": { size: { field: "size_gib", unit: GIB, roundUp: true, example: "10G or 500M (or size_gib: 10)" } },
};

/** Fields the node fills in its answers; a file that sets them was copied from one. */
const OUTPUT_ONLY = new Set([
  "limiquantix.node.v1.DiskSpec.target",
  "limiquantix.node.v1.DiskSpec.resolved_path",
  "limiquantix.node.v1.CdromSpec.target",
  "limiquantix.node.v1.CdromSpec.resolved_path",
]);

/** The request's own fields a file may set at its top, next to the VMSpec fields. */
const REQUEST_FIELDS = ["vm_id", "name", "labels"];

const snake = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function enumValue(desc: DescEnum, v: unknown, path: string): string {
  const n = typeof v === "string" ? parseEnum(desc, v) : undefined;
  if (n === undefined) throw new SpecShapeError(path, `must be one of ${enumChoices(desc).join(", ")}; got ${typeName(v)}`);
  return desc.values.find((x) => x.number === n)!.name;
}

/** `2G`, `512 MiB`: a unit is required, so a bare number is never read in the wrong unit. */
function sizeValue(v: unknown, alias: SizeAlias, path: string): string {
  const text = typeof v === "string" && /[kmgtp]/i.test(v) ? v : undefined;
  const raw = text === undefined ? undefined : parseSize(text);
  if (raw === undefined) throw new SpecShapeError(path, `must be a size with a unit like ${alias.example}; got ${typeName(v)}`);
  if (raw === 0) throw new SpecShapeError(path, `must be more than 0; got ${typeName(v)}`);
  if (alias.roundUp) return String(Math.ceil(raw / alias.unit));
  if (raw % alias.unit !== 0) throw new SpecShapeError(path, `must be a whole number of MiB; got ${typeName(v)}`);
  return String(raw / alias.unit);
}

function scalarValue(type: ScalarType, v: unknown, path: string): unknown {
  switch (type) {
    case ScalarType.STRING:
      if (typeof v === "string") return v;
      // YAML reads `network: 10` or `vnc_password: 1234` as numbers; the author meant the text.
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

/** Where a key of the file goes: a field of one of these messages, possibly through a size alias. */
interface Target {
  desc: DescMessage;
  field: DescField;
  alias?: SizeAlias;
}

function findTarget(descs: DescMessage[], key: string): Target | undefined {
  for (const desc of descs) {
    const alias = SIZE_ALIASES[desc.typeName]?.[key] ?? SIZE_ALIASES[desc.typeName]?.[snake(key)];
    const name = alias?.field ?? snake(key);
    const field = desc.fields.find((f) => f.name === name || f.jsonName === key);
    if (field) return alias ? { desc, field, alias } : { desc, field };
  }
  return undefined;
}

const knownKeys = (descs: DescMessage[], allowed?: (f: DescField) => boolean) =>
  descs.flatMap((d) => [
    ...d.fields.filter((f) => (allowed ? allowed(f) : true) && !OUTPUT_ONLY.has(`${d.typeName}.${f.name}`)).map((f) => f.name),
    ...Object.keys(SIZE_ALIASES[d.typeName] ?? {}),
  ]);

/**
 * The keys of `value` sorted into proto JSON objects, one per message of `descs` (the top of the
 * file fills two: the request and its spec). `allowed` limits which fields of a message a file
 * may set.
 */
function sortKeys(
  descs: DescMessage[],
  value: unknown,
  path: string,
  allowed: (f: DescField) => boolean = () => true,
): Map<DescMessage, Record<string, unknown>> {
  if (!isObject(value)) {
    const what = path ? "must be a mapping of fields" : "the spec must be a mapping of fields (name: web-1, memory: 2G, ...)";
    throw new SpecShapeError(path, `${what}; got ${typeName(value)}`);
  }
  const out = new Map(descs.map((d) => [d, {} as Record<string, unknown>]));
  const from = new Map<string, string>();
  for (const [key, v] of Object.entries(value)) {
    const p = path ? `${path}.${key}` : key;
    const target = findTarget(descs, key);
    if (!target || !allowed(target.field)) {
      throw new SpecShapeError(p, `unknown field; known fields here: ${knownKeys(descs, allowed).join(", ")}`);
    }
    const { desc, field, alias } = target;
    if (OUTPUT_ONLY.has(`${desc.typeName}.${field.name}`)) throw new SpecShapeError(p, "is filled in by the node (output only); leave it out");
    if (v === null || v === undefined) continue; // `backing_file:` with nothing after it: unset
    const json = out.get(desc)!;
    if (field.name in json) throw new SpecShapeError(p, `is given twice (as ${from.get(`${desc.typeName}.${field.name}`)} and ${key})`);
    from.set(`${desc.typeName}.${field.name}`, key);
    json[field.name] = alias ? sizeValue(v, alias, p) : fieldValue(field, v, p);
  }
  return out;
}

/** The friendly object at `path` as proto JSON of `desc` (proto field names, enum names, u64 as strings). */
export function toProtoJson(desc: DescMessage, value: unknown, path: string): Record<string, unknown> {
  return sortKeys([desc], value, path).get(desc)!;
}

/**
 * A whole file: vm_id, name and labels are the request's, every other key is its spec's. Paths in
 * failures are the file's own (`disks[0].size`, `name`).
 */
export function requestJson(value: unknown): Record<string, unknown> {
  const request = CreateVMOnNodeRequestSchema;
  const sorted = sortKeys([request, VMSpecSchema], value, "", (f) => f.parent !== request || REQUEST_FIELDS.includes(f.name));
  return { ...sorted.get(request), spec: sorted.get(VMSpecSchema) };
}
