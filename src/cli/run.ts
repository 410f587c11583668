// The command tree and its runner. citty parses and dispatches; this file owns what citty
// leaves to the caller: --help/--version on every level, and exit codes (0 ok, 1 failure,
// 2 bad usage or bad configuration).

import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { stripVTControlCharacters } from "node:util";
import { isConfigError } from "../config/config-error.ts";
import { VERSION } from "../version.ts";
import { daemonArgs } from "./daemon-flags.ts";
import { examplesOf, withExamples } from "./client/client-args.ts";
import { rejectUnknownFlags } from "./unknown-flags.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./usage-error.ts";

const CLIENT_COMMANDS = ["status", "node", "vm", "snapshot", "metrics", "events", "pool", "volume"] as const;

export const rootCommand = defineCommand({
  meta: {
    name: "limiquantix-node",
    version: VERSION,
    description: "Quantix node daemon: runs VMs on this host through libvirt and serves the node API",
  },
  args: withExamples(daemonArgs, [
    "--dev                                   # laptop: mock hypervisor on 127.0.0.1:9090",
    "--config /etc/limiquantix/node.yaml     # what systemd runs",
    "--listen 0.0.0.0:9090 --control-plane http://10.0.0.1:8080 --register",
    "config check --config /etc/limiquantix/node.yaml",
    "status                                  # ask a running daemon",
  ]),
  default: "serve",
  // Loaded on use: the daemon never loads the client's code and the client never loads the
  // daemon's, which keeps the daemon's idle memory and the client's start-up small.
  subCommands: {
    serve: () => import("./serve.ts").then((m) => m.serveCommand),
    config: () => import("./config-check.ts").then((m) => m.configCommand),
    ...Object.fromEntries(
      CLIENT_COMMANDS.map((name) => [name, () => import("./client/index.ts").then((m) => m.clientCommands[name])]),
    ),
  },
});

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);
const resolve = async <T>(v: Resolvable<T>): Promise<T> => (typeof v === "function" ? (v as () => T | Promise<T>)() : v);

/** The command the args select, for --help (mirrors citty's own resolution). */
async function selectedCommand(rawArgs: string[]): Promise<[CommandDef, CommandDef | undefined]> {
  let cmd: CommandDef = rootCommand as CommandDef;
  let parent: CommandDef | undefined;
  for (const arg of rawArgs.filter((a) => !a.startsWith("-"))) {
    const subs = (await resolve(cmd.subCommands)) ?? {};
    if (!(arg in subs)) break;
    parent = cmd;
    cmd = (await resolve(subs[arg])) as CommandDef;
  }
  return [cmd, parent];
}

/** citty's usage, plus the EXAMPLES section citty has no place for. */
export async function renderHelp(cmd: CommandDef, parent?: CommandDef): Promise<string> {
  const examples = examplesOf(cmd.args);
  const section = examples.length ? `\nEXAMPLES\n\n${examples.map((e) => `  ${e}`).join("\n")}\n` : "";
  return (await renderUsage(cmd, parent)) + "\n" + section;
}

/** citty colours its output unconditionally; pipes and journald get plain text. */
const plain = (text: string, stream: NodeJS.WriteStream) => (stream.isTTY ? text : stripVTControlCharacters(text));

export async function runCli(rawArgs: string[]): Promise<number | undefined> {
  try {
    const [cmd, parent] = await selectedCommand(rawArgs);
    if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
      process.stdout.write(plain(await renderHelp(cmd, parent), process.stdout));
      return EXIT_OK;
    }
    rejectUnknownFlags(rawArgs, (cmd.args ?? {}) as ArgsDef);
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      process.stdout.write(`limiquantix-node ${VERSION} (bun ${Bun.version})\n`);
      return EXIT_OK;
    }
    await runCommand(rootCommand, { rawArgs });
    // The daemon keeps running on its listeners; other commands are done.
    return undefined;
  } catch (err) {
    if (isConfigError(err) || err instanceof UsageError) {
      process.stderr.write(`limiquantix-node: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof Error && err.name === "CLIError") {
      process.stderr.write(plain(`limiquantix-node: ${err.message}; see --help\n`, process.stderr));
      return EXIT_USAGE;
    }
    process.stderr.write(`limiquantix-node: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  }
}
