// The config concern's public surface: load, validate and print the daemon's configuration.

export { loadConfig } from "./load-config.ts";
export { ConfigError, isConfigError } from "./config-error.ts";
export { formatEffectiveConfig, redactValue } from "./format-config.ts";
export { DEFAULT_CONFIG_PATH, devRootDir } from "./build-config.ts";
export { ENV_VARS } from "./env-flag-sources.ts";
export { KEYS, envName, flagName, LOG_LEVELS, LOG_FORMATS, BACKENDS } from "./keys.ts";
export type * from "./types.ts";
