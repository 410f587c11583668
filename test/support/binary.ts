// The compiled daemon for tests that must run what operators run. Built once per source state:
// the executable is cached outside the clone under ~/.cache/limiquantix/bin/<hash of the inputs>,
// so a fresh clone of the same commit on the same machine reuses it. LIMIQUANTIX_BINARY names a
// binary built elsewhere (CI builds it before the tests).

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { compileCommand } from "../../scripts/compile-command.ts";

const ROOT = join(import.meta.dir, "../..");

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

/** Hash of what the binary is made of: the sources, the lock file, the build script and Bun. */
function inputsHash(): string {
  const h = createHash("sha256");
  h.update(Bun.version);
  const inputs = [...filesUnder(join(ROOT, "src")), join(ROOT, "package.json"), join(ROOT, "package-lock.json"), join(ROOT, "scripts/compile-command.ts")];
  for (const f of inputs.sort()) {
    h.update(relative(ROOT, f));
    h.update(readFileSync(f));
  }
  return h.digest("hex").slice(0, 16);
}

export function compiledDaemon(): string {
  const given = process.env.LIMIQUANTIX_BINARY;
  if (given) {
    if (!existsSync(given)) throw new Error(`LIMIQUANTIX_BINARY=${given} does not exist`);
    return given;
  }
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "limiquantix", "bin", inputsHash());
  const binary = join(dir, "limiquantix-node");
  if (existsSync(binary) && statSync(binary).size > 0) return binary;
  mkdirSync(dir, { recursive: true });
  // Built under a temporary name and renamed: a half-written binary is never taken for a cached one.
  const partial = `${binary}.partial-${process.pid}`;
  const built = Bun.spawnSync(compileCommand({ root: ROOT, outfile: partial }), { stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`bun build --compile failed:\n${built.stderr.toString()}${built.stdout.toString()}`);
  renameSync(partial, binary);
  return binary;
}
