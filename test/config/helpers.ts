// In-memory config files for loadConfig, so tests never touch /etc.

import { ConfigError, loadConfig } from "../../src/config/index.ts";
import type { ConfigFlags, LoadConfigResult } from "../../src/config/index.ts";

export const FILE = "/etc/limiquantix/node.yaml";

export interface LoadOptions {
  yaml?: string;
  env?: Record<string, string | undefined>;
  flags?: ConfigFlags;
}

/** Loads with `yaml` as the default config file (absent when undefined). */
export function load({ yaml, env = {}, flags = {} }: LoadOptions = {}): LoadConfigResult {
  const files = new Map<string, string>();
  if (yaml !== undefined) files.set(FILE, yaml);
  return loadConfig({
    flags,
    env,
    readFile: (p) => files.get(p),
    fileExists: (p) => files.has(p),
  });
}

/** The ConfigError a load throws; fails the test when it does not throw one. */
export function loadError(options: LoadOptions): ConfigError {
  try {
    load(options);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected a ConfigError, but the config loaded: ${JSON.stringify(options)}`);
}
