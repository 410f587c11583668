// The operator CLI: the same binary as a client of a running daemon. These are the top-level
// commands run.ts registers next to `serve` and `config`.

import { defineCommand } from "citty";
import { eventsCommand } from "./events-command.ts";
import { metricsCommand } from "./metrics-command.ts";
import { nodeCommand, statusCommand } from "./node-commands.ts";
import { snapshotCommand } from "./snapshot-commands.ts";
import { poolCommand, volumeCommand } from "./storage-commands.ts";
import { consoleCommand } from "./vm-console-command.ts";
import { vmDeviceCommands } from "./vm-device-commands.ts";
import { vmLifecycleCommands } from "./vm-lifecycle-commands.ts";
import { migrateCommand } from "./vm-migrate-command.ts";
import { vmViewCommands } from "./vm-view-commands.ts";
import { agentCommand, logsCommand } from "./vm-agent-commands.ts";

export const vmCommand = defineCommand({
  meta: { name: "vm", description: "The node's VMs (e.g. `vm list`, `vm create -f spec.yaml --start`, `vm media web-1 --cdrom installer --eject`)" },
  subCommands: {
    ...vmViewCommands,
    ...vmLifecycleCommands,
    console: consoleCommand,
    ...vmDeviceCommands,
    migrate: migrateCommand,
    agent: agentCommand,
    logs: logsCommand,
  },
});

export const clientCommands = {
  status: statusCommand,
  node: nodeCommand,
  vm: vmCommand,
  snapshot: snapshotCommand,
  metrics: metricsCommand,
  events: eventsCommand,
  pool: poolCommand,
  volume: volumeCommand,
};
