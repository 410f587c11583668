// Reads node.yaml into raw settings. Both layouts of the seeds are accepted: the README's
// nested one (server.listen_address, ...) and the build guide's flat one (listen_address,
// control_plane_url, hypervisor.type, storage.vm_images, ...), even mixed in one file.
// Syntax errors and value errors carry the file, line and column.

import type { Document, Node, YAMLMap } from "yaml";
import { ConfigError, valueError } from "./config-error.ts";
import { SECTIONS, SPEC_BY_PATH } from "./keys.ts";
import type { RawEntry, Where } from "./parse-value.ts";
import { nearest } from "../common/suggest.ts";
import { yaml } from "./yaml-lib.ts";

export interface FileSettings {
  entries: RawEntry[];
  warnings: string[];
}

const KNOWN_PATHS: readonly string[] = [...SPEC_BY_PATH.keys(), ...SECTIONS];
const SECTION_SET: ReadonlySet<string> = new Set(SECTIONS);

export function readYamlSettings(text: string, file: string): FileSettings {
  const { isMap, isScalar, LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const whereAt = (offset: number | undefined): Where => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { location: `${file}:${line}:${col}`, line, column: col };
  };

  const first = doc.errors[0];
  if (first) throw syntaxError(text, file, first.message, whereAt(first.pos[0]));

  const warnings = doc.warnings.map((w) => `config: ${whereAt(w.pos[0]).location}: YAML warning: ${w.message}`);
  const entries: RawEntry[] = [];
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { entries, warnings };
  if (!isMap(root)) {
    throw new ConfigError(`config: ${file}: the top level is not a mapping of keys (at ${whereAt(root.range?.[0]).location})`, {
      key: file,
      value: root.toJS(doc),
      allowed: "a mapping such as `server:` / `listen_address:` keys",
      ...whereAt(root.range?.[0]),
    });
  }

  const walk = (map: YAMLMap, prefix: string) => {
    for (const pair of map.items) {
      const keyNode = pair.key as Node | null;
      const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const path = prefix === "" ? name : `${prefix}.${name}`;
      const keyWhere = whereAt((keyNode as Node | null)?.range?.[0]);
      const valueNode = resolve(pair.value as Node | null, doc);
      const value = valueNode === null ? null : valueNode.toJS(doc);
      const valueWhere = valueNode?.range ? whereAt(valueNode.range[0]) : keyWhere;

      const spec = SPEC_BY_PATH.get(path);
      if (spec) {
        // `id: null` (as in the README) and an empty `id:` mean "not set here".
        if (value !== null) entries.push({ spec, label: path, raw: value, where: valueWhere });
      } else if (prefix === "" && SECTION_SET.has(name)) {
        if (value === null) continue; // an empty section, e.g. `tls:` with every key commented out
        if (!isMap(valueNode)) {
          throw valueError(path, value, `is not a mapping of ${path}.* keys`, `a mapping of ${path}.* keys`, valueWhere);
        }
        walk(valueNode, path);
      } else {
        warnings.push(unknownKeyWarning(path, keyWhere));
      }
    }
  };
  walk(root, "");
  return { entries, warnings };
}

function resolve(node: Node | null, doc: Document): Node | null {
  if (node !== null && yaml().isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
  return node;
}

function unknownKeyWarning(path: string, where: Where): string {
  const guess = nearest(path, KNOWN_PATHS, ".");
  const hint = guess === undefined ? "" : `; did you mean "${guess}"?`;
  return `config: ${where.location}: unknown key "${path}" ignored${hint}`;
}

function syntaxError(text: string, file: string, message: string, where: Where): ConfigError {
  const source = text.split(/\r?\n/)[where.line - 1];
  const gutter = String(where.line);
  const excerpt = source === undefined ? "" : `\n  ${gutter} | ${source}\n  ${" ".repeat(gutter.length)} | ${" ".repeat(Math.max(0, where.column - 1))}^`;
  return new ConfigError(`config: ${where.location}: YAML syntax error: ${message}${excerpt}`, {
    key: file,
    allowed: "a valid YAML document",
    ...where,
  });
}
