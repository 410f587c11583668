// The UI renders everything the daemon sends as text (src/ui/dom.ts builds nodes, strings become
// text nodes): no UI source may reach for an HTML-parsing sink.

import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const UI = join(import.meta.dir, "../../src/ui");
const SINKS = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser)\b/;

test("no UI source uses an HTML-parsing DOM sink", () => {
  const files = readdirSync(UI, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  expect(files.length).toBeGreaterThan(10);
  const offenders = files.filter((f) => SINKS.test(readFileSync(join(UI, f), "utf8")));
  expect(offenders).toEqual([]);
});
