// Reads the configuration the way the daemon does, for `serve` and `config check` alike.

import { readFileSync } from "node:fs";
import type { ParsedArgs } from "citty";
import { loadConfig } from "../config/index.ts";
import type { LoadConfigResult } from "../config/types.ts";
import { type daemonArgs, toConfigFlags } from "./daemon-flags.ts";

export function loadDaemonConfig(args: ParsedArgs<typeof daemonArgs>, rawArgs: string[]): LoadConfigResult {
  return loadConfig({
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
}
