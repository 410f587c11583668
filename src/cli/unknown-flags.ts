// citty ignores flags it does not know; an operator's typo (--listne) must not silently fall
// back to a default, so every --flag is checked against the command's definitions.

import type { ArgsDef } from "citty";
import { nearest } from "../common/suggest.ts";
import { UsageError } from "./usage-error.ts";

export function rejectUnknownFlags(rawArgs: string[], args: ArgsDef): void {
  const known = new Set<string>(["help", "h", "version", "v"]);
  for (const [name, def] of Object.entries(args)) {
    known.add(name);
    if (def.type === "boolean") known.add(`no-${name}`);
    const aliases = "alias" in def ? def.alias : undefined;
    for (const a of [aliases ?? []].flat()) known.add(a);
  }
  for (const arg of rawArgs) {
    if (arg === "--") break;
    const m = /^--?([^=]+)/.exec(arg);
    if (!m || /^-\d/.test(arg)) continue;
    const name = m[1]!;
    // Short flags may be bundled (-c path); only long ones are checked by name.
    if (arg.startsWith("--") && !known.has(name)) {
      const near = nearest(
        name,
        [...known].filter((k) => k.length > 1),
      );
      throw new UsageError(`unknown flag --${name}${near === undefined ? "" : `; did you mean --${near}?`} (see --help)`);
    }
  }
}
