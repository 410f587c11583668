// The one `bun build --compile` command line, shared by the build script and the benchmarks
// (bench/sections/binary.ts), so the binary measured is the binary shipped.

import { readdirSync } from "node:fs";
import { join } from "node:path";

export interface CompileOptions {
  root: string;
  outfile: string;
  debug?: boolean;
  /** bun's target without the "bun-" prefix (linux-x64, ...); the host when absent. */
  target?: string;
  /** Bytecode is host-specific: a cross-compiled binary ships source only. */
  crossCompiling?: boolean;
}

export function compileCommand(o: CompileOptions): string[] {
  return [
    process.execPath,
    "build",
    "--compile",
    "--format=esm",
    ...(o.debug ? ["--sourcemap=inline"] : ["--minify", "--sourcemap=none", ...(o.crossCompiling ? [] : ["--bytecode"])]),
    // A compiled Bun program reads .env and bunfig.toml from its working directory by default:
    // a daemon's settings come from its config file, environment and flags, never from
    // whatever directory it was started in.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    ...(o.target ? [`--target=bun-${o.target}`] : []),
    "--outfile",
    o.outfile,
    join(o.root, "src", "main.ts"),
    ...workerEntrypoints(o.root),
  ];
}

/** Worker files must be extra entrypoints of a compiled binary (Bun docs: executables, "Worker"). */
function workerEntrypoints(root: string): string[] {
  const dir = join(root, "src", "hypervisor", "libvirt");
  try {
    return readdirSync(dir)
      .filter((f) => /worker\.ts$/.test(f))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}
