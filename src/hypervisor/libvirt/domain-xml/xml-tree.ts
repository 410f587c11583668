// A tiny element tree between our code and fast-xml-parser. Everything that reaches XML text goes
// through serializeXml (XMLBuilder with entity escaping) and everything read comes from parseXml
// (XMLValidator + XMLParser); no other module touches XML text. The tree keeps document order and
// resolves namespace prefixes, so metadata is found by namespace URI whatever prefix libvirt uses.

import { XMLBuilder, XMLParser, XMLValidator } from "fast-xml-parser";
import { HypervisorError } from "../../errors.ts";

export interface XmlNode {
  /** Qualified name as written (`lq:vm`). */
  name: string;
  /** Name without prefix (`vm`). */
  local: string;
  /** Namespace URI in scope for the element's prefix; undefined when none. */
  ns?: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Concatenated direct text (and CDATA) content, entities decoded, untrimmed. */
  text: string;
}

/** What writers produce: attributes whose value is undefined are left out. */
export interface XmlElement {
  name: string;
  attrs?: Record<string, string | number | undefined>;
  children?: (XmlElement | undefined | false)[];
  text?: string | number;
}

export const el = (name: string, attrs?: XmlElement["attrs"], children?: XmlElement["children"] | string | number): XmlElement =>
  typeof children === "string" || typeof children === "number" ? { name, attrs, text: children } : { name, attrs, children };

// XMLBuilder escapes & < > ' " by default. We add tab, newline and carriage return as character
// references: XML parsers (libxml2 inside libvirt) normalise raw ones in attribute values to
// spaces and turn CR LF into LF in text, so without this a label value with a newline would come
// back changed.
const ENTITIES = [
  { regex: /&/g, val: "&amp;" },
  { regex: />/g, val: "&gt;" },
  { regex: /</g, val: "&lt;" },
  { regex: /'/g, val: "&apos;" },
  { regex: /"/g, val: "&quot;" },
  { regex: /\t/g, val: "&#9;" },
  { regex: /\n/g, val: "&#10;" },
  { regex: /\r/g, val: "&#13;" },
];

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  format: true,
  indentBy: "  ",
  suppressEmptyNode: true,
  // The default writes an attribute whose value is true as a bare name, which is not XML (the
  // unordered mode even does it for the string "true").
  suppressBooleanAttributes: false,
  processEntities: true,
  entities: ENTITIES,
} as ConstructorParameters<typeof XMLBuilder>[0]);

/** The first character XML 1.0 cannot carry at all (not even as a reference), or undefined. */
export function illegalXmlChar(value: string): string | undefined {
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    const ok = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!ok) return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  }
  return undefined;
}

function checked(value: string, where: string): string {
  const bad = illegalXmlChar(value);
  if (bad) throw new HypervisorError("invalid_argument", `${where}: character ${bad} cannot be stored in XML`);
  return value;
}

type Ordered = Record<string, unknown>;

function toOrdered(node: XmlElement): Ordered {
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(node.attrs ?? {})) {
    if (value === undefined) continue;
    attrs[`@_${key}`] = checked(String(value), `<${node.name} ${key}>`);
  }
  const body: Ordered[] = [];
  if (node.text !== undefined && String(node.text) !== "") {
    body.push({ "#text": checked(String(node.text), `<${node.name}>`) });
  }
  for (const child of node.children ?? []) if (child) body.push(toOrdered(child));
  const out: Ordered = { [node.name]: body };
  if (Object.keys(attrs).length > 0) out[":@"] = attrs;
  return out;
}

/** Serialise one element (and its subtree) as indented XML, ending in a newline. */
export function serializeXml(root: XmlElement): string {
  const xml: string = builder.build([toOrdered(root)]);
  return `${xml.startsWith("\n") ? xml.slice(1) : xml}\n`;
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  // Needed to decode numeric references (&#10;), which libxml2 writes for newlines in attributes.
  htmlEntities: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/**
 * Parse a whole document and return its root element. Malformed input is an "internal" error
 * (libvirt handed us something we cannot read) naming the line; `what` says which document.
 */
export function parseXml(xml: string, what: string): XmlNode {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new HypervisorError("internal", `${what}: malformed XML at line ${valid.err.line}: ${valid.err.msg}`);
  }
  let ordered: Ordered[];
  try {
    ordered = parser.parse(xml) as Ordered[];
  } catch (err) {
    throw new HypervisorError("internal", `${what}: cannot parse XML: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  const roots = ordered.map((item) => toNode(item, new Map())).filter((n): n is XmlNode => n !== undefined);
  const root = roots[0];
  if (!root) throw new HypervisorError("internal", `${what}: document has no root element`);
  return root;
}

function keyOf(item: Ordered): string | undefined {
  return Object.keys(item).find((k) => k !== ":@");
}

// Scopes are Maps so that a prefix such as "__proto__" is just a key.
function toNode(item: Ordered, scope: ReadonlyMap<string, string>): XmlNode | undefined {
  const name = keyOf(item);
  if (name === undefined || name === "#text" || name.startsWith("?")) return undefined;
  const rawAttrs = (item[":@"] ?? {}) as Record<string, string>;
  const attrs: Record<string, string> = {};
  let inner = scope;
  for (const [key, value] of Object.entries(rawAttrs)) {
    const attr = key.slice(2);
    attrs[attr] = String(value);
    if (attr === "xmlns" || attr.startsWith("xmlns:")) {
      const copy = inner === scope ? new Map(scope) : (inner as Map<string, string>);
      copy.set(attr === "xmlns" ? "" : attr.slice(6), String(value));
      inner = copy;
    }
  }
  const colon = name.indexOf(":");
  const prefix = colon >= 0 ? name.slice(0, colon) : "";
  const node: XmlNode = {
    name,
    local: colon >= 0 ? name.slice(colon + 1) : name,
    ns: inner.get(prefix) || undefined,
    attrs,
    children: [],
    text: "",
  };
  for (const child of (item[name] ?? []) as Ordered[]) {
    const key = keyOf(child);
    if (key === "#text") node.text += String(child["#text"]);
    else {
      const sub = toNode(child, inner);
      if (sub) node.children.push(sub);
    }
  }
  return node;
}

// Queries by local name. Our own documents put no namespace on libvirt's elements, so a
// namespaced element only matches when the caller asks for its namespace.

export function child(node: XmlNode | undefined, local: string, ns?: string): XmlNode | undefined {
  return node?.children.find((c) => c.local === local && c.ns === ns);
}

export function children(node: XmlNode | undefined, local: string, ns?: string): XmlNode[] {
  return node?.children.filter((c) => c.local === local && c.ns === ns) ?? [];
}

/** Follow a path of child names, e.g. path(domain, "devices", "graphics"). */
export function path(node: XmlNode | undefined, ...locals: string[]): XmlNode | undefined {
  let at = node;
  for (const local of locals) at = child(at, local);
  return at;
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  return node?.attrs[name];
}

/** Text of an element with surrounding whitespace removed, undefined when the element is absent. */
export function textOf(node: XmlNode | undefined): string | undefined {
  return node === undefined ? undefined : node.text.trim();
}

/** An integer attribute or text; undefined when absent, an error when present but not a number. */
export function intOf(value: string | undefined, where: string): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const n = trimmed.startsWith("0x") ? Number.parseInt(trimmed.slice(2), 16) : Number(trimmed);
  if (trimmed === "" || !Number.isInteger(n)) {
    throw new HypervisorError("internal", `${where}: expected an integer, got ${JSON.stringify(value)}`);
  }
  return n;
}
