// Reads the configuration the way the daemon does, for `serve` and `config check` alike,
// including the TLS files it will load.

import { readFileSync } from "node:fs";
import type { ParsedArgs } from "citty";
import { loadConfig } from "../config/index.ts";
import { checkTlsFiles } from "../config/tls-files.ts";
import type { LoadConfigResult } from "../config/types.ts";
import { type daemonArgs, toConfigFlags } from "./daemon-flags.ts";

/** Also checks the TLS files (readable, a certificate and its key), as the daemon would load them. */
export function loadDaemonConfig(args: ParsedArgs<typeof daemonArgs>, rawArgs: string[]): LoadConfigResult {
  const result = loadConfig({
    flags: toConfigFlags(args, rawArgs),
    env: process.env,
    readFile: (path) => {
      try {
        return readFileSync(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
  });
  checkTlsFiles(result.config, result.origins);
  return result;
}
