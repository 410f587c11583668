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
}

export function compileCommand(o: CompileOptions): string[] {
  return [
    process.execPath,
    "build",
    "--compile",
    "--format=esm",
    // No --bytecode: it answers the first HealthCheck ~45 ms sooner, but keeps ~4 MiB of the
    // executable's bytecode pages mapped to save ~2 MiB of parsed code: more idle memory,
    // which the 60 MB budget cannot spare, for a start that is well inside its own (bench/).
    ...(o.debug ? ["--sourcemap=inline"] : ["--minify", "--sourcemap=none"]),
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
  // libvirt's call and event Workers; the host UI's PAM Worker (server/host-ui/pam-login.ts).
  return [join(root, "src", "hypervisor", "libvirt"), join(root, "src", "server", "host-ui")].flatMap((dir) => {
    try {
      return readdirSync(dir)
        .filter((f) => /worker\.ts$/.test(f))
        .map((f) => join(dir, f));
    } catch {
      return [];
    }
  });
}
