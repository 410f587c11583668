// Settings from the environment (LIMIQUANTIX_*) and from command-line flags. Variable names
// are derived from the key table: every canonical key and every flat-layout twin has one
// (server.listen_address -> LIMIQUANTIX_SERVER_LISTEN_ADDRESS, listen_address ->
// LIMIQUANTIX_LISTEN_ADDRESS). An empty variable counts as unset, as systemd's
// `Environment=NAME=` intends.

import { CONFIG_ENV, envName, flagName, KEYS } from "./keys.ts";
import type { RawEntry } from "./parse-value.ts";
import { nearest } from "../common/suggest.ts";
import type { ConfigFlags } from "./types.ts";

/** Every variable the daemon reads, in table order. */
export const ENV_VARS: readonly string[] = [CONFIG_ENV, ...KEYS.flatMap((spec) => [spec.key, ...spec.aliases].map(envName))];
const ENV_SET: ReadonlySet<string> = new Set(ENV_VARS);

export function readEnvSettings(env: Record<string, string | undefined>): { entries: RawEntry[]; warnings: string[] } {
  const entries: RawEntry[] = [];
  for (const spec of KEYS) {
    for (const path of [spec.key, ...spec.aliases]) {
      const name = envName(path);
      const raw = env[name];
      if (raw !== undefined && raw.trim() !== "") entries.push({ spec, label: name, raw });
    }
  }
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith("LIMIQUANTIX_") || ENV_SET.has(name)) continue;
    const guess = nearest(name, ENV_VARS);
    warnings.push(`config: unknown environment variable ${name} ignored${guess === undefined ? "" : `; did you mean ${guess}?`}`);
  }
  return { entries, warnings };
}

export function readFlagSettings(flags: ConfigFlags): RawEntry[] {
  const entries: RawEntry[] = [];
  for (const spec of KEYS) {
    if (spec.flag === undefined) continue;
    const raw = flags[spec.flag];
    if (raw !== undefined) entries.push({ spec, label: flagName(spec.flag), raw });
  }
  return entries;
}
