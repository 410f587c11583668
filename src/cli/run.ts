// The command tree and its runner. citty parses and dispatches; this file owns what citty
// leaves to the caller: --help/--version on every level, and exit codes (0 ok, 1 failure,
// 2 bad usage or bad configuration).

import { defineCommand, renderUsage, runCommand, type ArgsDef, type CommandDef } from "citty";
import { stripVTControlCharacters } from "node:util";
import { isConfigError } from "../config/config-error.ts";
import { VERSION } from "../version.ts";
import { daemonArgs } from "./daemon-flags.ts";
import { examplesOf, withExamples } from "./client/client-args.ts";
import { editDistance, nearest } from "../common/suggest.ts";
import { rejectUnknownFlags } from "./unknown-flags.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./usage-error.ts";

const CLIENT_COMMANDS = ["status", "node", "vm", "snapshot", "metrics", "events", "pool", "volume"] as const;

const globalFlags = {
  help: { type: "boolean", alias: "h", description: "Show this help (every command has its own: limiquantix-node vm --help)" },
  version: { type: "boolean", alias: "v", description: "Print the version and exit" },
} as const satisfies ArgsDef;

export const rootCommand = defineCommand({
  meta: {
    name: "limiquantix-node",
    version: VERSION,
    description: "Quantix node daemon: runs VMs on this host through libvirt and serves the node API",
  },
  // --help and --version are handled in runCli on every level; listed here so the root's usage shows them.
  args: withExamples({ ...daemonArgs, ...globalFlags }, [
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
    ...Object.fromEntries(CLIENT_COMMANDS.map((name) => [name, () => import("./client/index.ts").then((m) => m.clientCommands[name])])),
  },
});

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);
const resolve = async <T>(v: Resolvable<T>): Promise<T> => (typeof v === "function" ? (v as () => T | Promise<T>)() : v);

/** Where citty looks for a subcommand's name: the first argument that is not a flag or a string flag's value. */
function subCommandIndex(rawArgs: string[], args: ArgsDef): number {
  const norm = (s: string) => s.replace(/-/g, "").toLowerCase();
  const valueFlags = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type !== "string" && def.type !== "enum") continue;
    valueFlags.add(norm(name));
    for (const a of [("alias" in def ? def.alias : undefined) ?? []].flat()) valueFlags.add(norm(a));
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--") return -1;
    if (!arg.startsWith("-")) return i;
    if (!arg.includes("=") && valueFlags.has(norm(arg))) i++;
  }
  return -1;
}

interface Selected {
  cmd: CommandDef;
  parent: CommandDef | undefined;
  /** The command words that resolved ("vm", "list"). */
  path: string[];
  /** A word where a command was expected that names none. */
  unknown?: string;
}

/** The command the args select (as citty resolves it), for --help and for naming an unknown command. */
async function selectedCommand(rawArgs: string[]): Promise<Selected> {
  let cmd: CommandDef = rootCommand as CommandDef;
  let parent: CommandDef | undefined;
  const path: string[] = [];
  let rest = rawArgs;
  for (;;) {
    const subs = await resolve(cmd.subCommands);
    if (subs === undefined || Object.keys(subs).length === 0) return { cmd, parent, path };
    const i = subCommandIndex(rest, (await resolve(cmd.args)) ?? {});
    const name = rest[i];
    if (name === undefined) return { cmd, parent, path };
    if (!(name in subs)) return { cmd, parent, path, unknown: name };
    parent = cmd;
    cmd = (await resolve(subs[name])) as CommandDef;
    path.push(name);
    rest = rest.slice(i + 1);
  }
}

/** "unknown command lst; did you mean vm list?", with the commands to choose from when nothing is close. */
async function unknownCommand(s: Selected & { unknown: string }): Promise<UsageError> {
  const names = Object.keys((await resolve(s.cmd.subCommands)) ?? {});
  // A near name, unless it shares too little with the word ("1" is 2 edits from "vm" too).
  const near = [nearest(s.unknown, names)].find((n) => n !== undefined && editDistance(s.unknown, n) < s.unknown.length);
  const where = ["limiquantix-node", ...s.path].join(" ");
  const hint = near === undefined ? `the commands are: ${names.join(", ")}` : `did you mean ${[...s.path, near].join(" ")}?`;
  return new UsageError(`unknown command ${s.unknown}; ${hint} (see ${where} --help)`);
}

/** citty's usage, plus the EXAMPLES section citty has no place for. */
export async function renderHelp(cmd: CommandDef, parent?: CommandDef): Promise<string> {
  const examples = examplesOf(cmd.args);
  const section = examples.length ? `\nEXAMPLES\n\n${examples.map((e) => `  ${e}`).join("\n")}\n` : "";
  return `${await renderUsage(cmd, parent)}\n${section}`;
}

/** citty colours its output unconditionally; pipes and journald get plain text. */
const plain = (text: string, stream: NodeJS.WriteStream) => (stream.isTTY ? text : stripVTControlCharacters(text));

export async function runCli(rawArgs: string[]): Promise<number | undefined> {
  try {
    const selected = await selectedCommand(rawArgs);
    const { cmd, parent } = selected;
    if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
      process.stdout.write(plain(await renderHelp(cmd, parent), process.stdout));
      return EXIT_OK;
    }
    // Under a command group the flags belong to a command not named yet: the unknown word first.
    // At the top the flags are the daemon's own: a mistyped one (--listne 1) is named before its value.
    if (selected.unknown !== undefined && selected.path.length > 0) throw await unknownCommand({ ...selected, unknown: selected.unknown });
    rejectUnknownFlags(rawArgs, (cmd.args ?? {}) as ArgsDef);
    if (selected.unknown !== undefined) throw await unknownCommand({ ...selected, unknown: selected.unknown });
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
