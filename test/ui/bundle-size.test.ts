// The host UI's bundle as the compiled binary embeds it: Bun bundles src/ui/index.html (minified)
// and the UI's pages must stay under 300 KiB gzipped. noVNC lives in the console document
// (console.html), loaded only when a console opens, and must not leak into the main bundle.

import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const UI = join(import.meta.dir, "../../src/ui");
const BUDGET_BYTES = 300 * 1024;

async function bundle(entry: string): Promise<{ gzipped: number; raw: number; text: string }> {
  const outdir = mkdtempSync(join(tmpdir(), "lq-ui-bundle-"));
  try {
    const built = await Bun.build({ entrypoints: [join(UI, entry)], outdir, minify: true, target: "browser" });
    if (!built.success) throw new Error(built.logs.map(String).join("\n"));
    let gzipped = 0;
    let raw = 0;
    let text = "";
    for (const out of built.outputs) {
      const bytes = readFileSync(out.path);
      raw += bytes.length;
      gzipped += gzipSync(bytes, { level: 9 }).length;
      text += bytes.toString("utf8");
    }
    return { gzipped, raw, text };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

test("the UI bundle without noVNC is under 300 KiB gzipped", async () => {
  const main = await bundle("index.html");
  const consoleDoc = await bundle("console.html");
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `host UI bundle: ${kib(main.raw)} raw, ${kib(main.gzipped)} gzipped; console document (noVNC): ${kib(consoleDoc.raw)} raw, ${kib(consoleDoc.gzipped)} gzipped`,
  );
  expect(main.gzipped).toBeLessThan(BUDGET_BYTES);
  // noVNC's RFB client fails a connection with this message; its code is in the console document only.
  const marker = "Unexpected server disconnect";
  expect({ console: consoleDoc.text.includes(marker), main: main.text.includes(marker) }).toEqual({ console: true, main: false });
});
