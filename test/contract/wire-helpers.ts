// Helpers for the contract tests: field signatures read from generated descriptors and from the
// contract table, a wire-type check of raw bytes, and a walker that names the first field where
// two decoded messages differ.
import { ScalarType, type DescField, type DescMessage, type Message, type UnknownField } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { PACKAGE } from "./contract-table.ts";

/** A field as "<number> <name> <type>", e.g. "4 bus limiquantix.node.v1.DiskBus". */
export type FieldRow = string;

const SCALARS = new Set(
  Object.values(ScalarType)
    .filter((v) => typeof v === "string")
    .map((s) => s.toLowerCase()),
);
const KEYWORDS = new Set(["optional", "repeated", "map"]);

const scalarName = (t: ScalarType): string => ScalarType[t].toLowerCase();

/** A field's wire-relevant type, e.g. "uint64", "repeated limiquantix.node.v1.DiskSpec", "map<string, string>". */
export function fieldType(f: DescField): string {
  const optional = f.proto.proto3Optional ? "optional " : "";
  switch (f.fieldKind) {
    case "scalar":
      return optional + scalarName(f.scalar);
    case "enum":
      return optional + f.enum.typeName;
    case "message":
      return f.message.typeName;
    case "list": {
      const element = f.listKind === "scalar" ? scalarName(f.scalar) : f.listKind === "enum" ? f.enum.typeName : f.message.typeName;
      const packable = f.listKind === "enum" || (f.listKind === "scalar" && f.scalar !== ScalarType.STRING && f.scalar !== ScalarType.BYTES);
      // proto3 packs repeated numbers and grpc-go writes them packed.
      return `repeated ${element}${packable && !f.packed ? " [packed=false]" : ""}`;
    }
    case "map": {
      const value = f.mapKind === "scalar" ? scalarName(f.scalar) : f.mapKind === "enum" ? f.enum.typeName : f.message.typeName;
      return `map<${scalarName(f.mapKey)}, ${value}>`;
    }
  }
}

/** The project's fields numbered below 100 (the contract's range), in number order. */
export function contractRangeRows(schema: DescMessage): FieldRow[] {
  return schema.fields
    .filter((f) => f.number < 100)
    .sort((a, b) => a.number - b.number)
    .map((f) => `${f.number} ${f.name} ${fieldType(f)}`);
}

/** Qualifies the contract table's short type names with our package. */
export function qualify(typeName: string): string {
  return typeName.replace(/[A-Za-z_][\w.]*/g, (t) => (SCALARS.has(t) || KEYWORDS.has(t) || t.startsWith("google.") ? t : `${PACKAGE}.${t}`));
}

/** Checks contract rows "<number> <name> <type>" and qualifies their type names. */
export function parseRows(rows: readonly string[]): FieldRow[] {
  return rows.map((row) => {
    const m = /^(\d+) (\w+) (.+)$/.exec(row);
    if (!m) throw new Error(`contract table: bad field row "${row}"`);
    return `${m[1]} ${m[2]} ${qualify(m[3]!)}`;
  });
}

// ---------------------------------------------------------------- comparing decoded messages

type Fields = Record<string, unknown>;

function valueOf(msg: Message, f: DescField): unknown {
  const fields = msg as unknown as Fields;
  if (f.oneof) {
    const sel = fields[f.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return sel?.case === f.localName ? sel.value : undefined;
  }
  return fields[f.localName];
}

function show(f: DescField, v: unknown): string {
  if (v === undefined) return "unset";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && f.enum) {
    const name = f.enum.values.find((e) => e.number === v)?.name;
    return `${v} (${name ?? "not a value of our enum"})`;
  }
  if (v instanceof Uint8Array) return `bytes ${Buffer.from(v).toString("hex")}`;
  if (typeof v === "object") return "set";
  return JSON.stringify(v);
}

function sameScalar(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  return Object.is(a, b);
}

function diffElement(f: DescField, a: unknown, b: unknown, at: string): string | undefined {
  if (f.message && a !== undefined && b !== undefined) return firstDifference(f.message, a as Message, b as Message, at);
  if (f.message ? (a === undefined) !== (b === undefined) : !sameScalar(a, b)) {
    return `${at} (#${f.number} ${fieldType(f)}): got ${show(f, a)}, want ${show(f, b)}`;
  }
  return undefined;
}

/**
 * The first field where `got` differs from `want`, as "path (#number type): got X, want Y";
 * undefined when they are equal, unknown fields included.
 */
export function firstDifference(schema: DescMessage, got: Message, want: Message, path = ""): string | undefined {
  for (const f of schema.fields) {
    const at = path ? `${path}.${f.name}` : f.name;
    const a = valueOf(got, f);
    const b = valueOf(want, f);
    if (f.fieldKind === "list") {
      const la = a as unknown[];
      const lb = b as unknown[];
      if (la.length !== lb.length) {
        return `${at} (#${f.number} ${fieldType(f)}): got ${la.length} elements, want ${lb.length}`;
      }
      for (let i = 0; i < la.length; i++) {
        const d = diffElement(f, la[i], lb[i], `${at}[${i}]`);
        if (d) return d;
      }
    } else if (f.fieldKind === "map") {
      const ma = a as Fields;
      const mb = b as Fields;
      for (const key of new Set([...Object.keys(ma), ...Object.keys(mb)])) {
        const d = diffElement(f, ma[key], mb[key], `${at}[${JSON.stringify(key)}]`);
        if (d) return d;
      }
    } else {
      const d = diffElement(f, a, b, at);
      if (d) return d;
    }
  }
  const ua = describeUnknown(got.$unknown);
  const ub = describeUnknown(want.$unknown);
  return ua === ub ? undefined : `${path || "(message)"}: unknown fields got [${ua}], want [${ub}]`;
}

const WIRE_TYPES = ["varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32"];

function describeUnknown(fields: UnknownField[] | undefined): string {
  return (fields ?? []).map((u) => `#${u.no} ${WIRE_TYPES[u.wireType] ?? u.wireType} (bytes ${Buffer.from(u.data).toString("hex")})`).join(", ");
}

/** Every place in a decoded message holding fields our schema does not define. */
export function unknownFields(schema: DescMessage, msg: Message, path = ""): string[] {
  const found: string[] = [];
  if (msg.$unknown?.length) {
    found.push(`${path || "(message)"}: ${schema.typeName} has no field ${describeUnknown(msg.$unknown)}`);
  }
  for (const f of schema.fields) {
    if (!f.message) continue;
    const at = path ? `${path}.${f.name}` : f.name;
    const v = valueOf(msg, f);
    if (v === undefined) continue;
    const entries: [string, unknown][] =
      f.fieldKind === "list"
        ? (v as unknown[]).map((e, i) => [`${at}[${i}]`, e])
        : f.fieldKind === "map"
          ? Object.entries(v as Fields).map(([k, e]) => [`${at}[${JSON.stringify(k)}]`, e])
          : [[at, v]];
    for (const [where, e] of entries) found.push(...unknownFields(f.message, e as Message, where));
  }
  return found;
}

// ---------------------------------------------------------------- wire types

function scalarWireType(t: ScalarType): WireType {
  switch (t) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

/** Wire types our field accepts: its own, plus length-delimited (packed) for repeated numbers. */
function acceptedWireTypes(f: DescField): WireType[] {
  if (f.fieldKind === "map" || f.message) return [WireType.LengthDelimited];
  const own = f.enum ? WireType.Varint : scalarWireType(f.scalar!);
  return f.fieldKind === "list" ? [own, WireType.LengthDelimited] : [own];
}

/**
 * Fields of the encoded message whose wire type our schema does not accept (protobuf-es would
 * misread them or fail with "premature EOF"), as "path (#number type): wire <got>, ours <want>".
 */
export function wireTypeMismatches(schema: DescMessage, bytes: Uint8Array, path = ""): string[] {
  const found: string[] = [];
  const reader = new BinaryReader(bytes);
  const seen = new Map<number, number>();
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    const f = schema.fields.find((x) => x.number === no);
    const index = seen.get(no) ?? 0;
    seen.set(no, index + 1);
    const at = `${path ? `${path}.` : ""}${f?.name ?? `#${no}`}${f?.fieldKind === "list" ? `[${index}]` : ""}`;
    if (f && !acceptedWireTypes(f).includes(wireType)) {
      const want = acceptedWireTypes(f)
        .map((w) => WIRE_TYPES[w])
        .join(" or ");
      found.push(`${at} (#${no} ${fieldType(f)}): control plane sends ${WIRE_TYPES[wireType]}, ours reads ${want}`);
      reader.skip(wireType, no);
    } else if (f?.message && f.fieldKind !== "map" && wireType === WireType.LengthDelimited) {
      found.push(...wireTypeMismatches(f.message, reader.bytes(), at));
    } else {
      reader.skip(wireType, no);
    }
  }
  return found;
}

export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));
export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** Offset of the first differing byte of two hex strings (or the shorter length). */
export function firstByteDiff(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.slice(i, i + 2) === b.slice(i, i + 2)) i += 2;
  return i / 2;
}
