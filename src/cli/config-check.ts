// `limiquantix-node config check [--config FILE]`: validates the configuration exactly as the
// daemon would read it and prints the effective result, so an operator can check a change
// before restarting the service.

import { defineCommand } from "citty";
import { formatEffectiveConfig } from "../config/index.ts";
import { daemonArgs } from "./daemon-flags.ts";
import { loadDaemonConfig } from "./load-daemon-config.ts";

const checkCommand = defineCommand({
  meta: { name: "check", description: "Validate the config (file, environment and flags) and print the effective config" },
  args: daemonArgs,
  run({ args, rawArgs }) {
    const { config, warnings, source, origins } = loadDaemonConfig(args, rawArgs);
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`# source: ${source ?? "defaults (no config file)"}\n`);
    // Each value says where it came from (file, environment or flag) when not a default.
    process.stdout.write(formatEffectiveConfig(config, origins));
  },
});

export const configCommand = defineCommand({
  meta: { name: "config", description: "Configuration tools" },
  subCommands: { check: checkCommand },
});
