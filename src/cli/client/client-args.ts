// Flags every client command shares (where the daemon is, how to reach it, how to print), and
// the helpers that read flags citty leaves to us: repeated flags and examples in --help.

import type { ArgsDef } from "citty";

export const DEFAULT_ADDR = "127.0.0.1:9090";

export const connectionArgs = {
  addr: { type: "string", description: `Daemon address: host:port or a URL (https:// means TLS)`, default: DEFAULT_ADDR, valueHint: "host:port" },
  tls: { type: "boolean", description: "Use TLS (implied by an https:// address)" },
  ca: { type: "string", description: "PEM CA bundle that signs the daemon's certificate (default: system CAs)", valueHint: "file" },
  cert: { type: "string", description: "PEM client certificate, for a daemon that requires mutual TLS", valueHint: "file" },
  key: { type: "string", description: "PEM private key of --cert", valueHint: "file" },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Print proto JSON (for scripts) instead of a table" },
} as const satisfies ArgsDef;

export const clientArgs = { ...connectionArgs, ...jsonArg } as const;

export interface ConnectionFlags {
  addr?: string;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * citty's usage has no examples section and run.ts renders it unchanged, so the examples ride
 * on the description of the last option, which citty prints last (and only in this command's
 * own --help, never in its parent's command list).
 */
export function withExamples<A extends ArgsDef>(args: A, examples: string[]): A {
  const names = Object.keys(args).filter((n) => args[n]!.type !== "positional");
  const last = names.at(-1);
  if (last === undefined) return args;
  const block = `\n\nEXAMPLES\n\n${examples.map((e) => `  limiquantix-node ${e}`).join("\n")}`;
  return { ...args, [last]: { ...args[last]!, description: `${args[last]!.description ?? ""}${block}` } };
}

/** Every value of a flag that may repeat (`--label a=1 --label b=2`), comma lists split. */
export function repeatedFlag(rawArgs: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg === `--${name}` && i + 1 < rawArgs.length) values.push(rawArgs[++i]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "");
}
