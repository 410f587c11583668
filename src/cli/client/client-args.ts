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

/** Where a command's examples live on its args object; citty reads only string keys. */
export const EXAMPLES = Symbol("examples");

/** Attaches examples that run.ts prints as an EXAMPLES section of this command's --help. */
export function withExamples<A extends ArgsDef>(args: A, examples: string[]): A {
  return Object.assign({ ...args }, { [EXAMPLES]: examples.map((e) => `limiquantix-node ${e}`) });
}

export function examplesOf(args: unknown): string[] {
  return (args as { [EXAMPLES]?: string[] } | undefined)?.[EXAMPLES] ?? [];
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
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}
