// consola, configured once: human-readable lines for a terminal, one JSON object per line for
// journald and log shippers (--log-format json).

// consola/basic, not consola: the fancy terminal reporter brings Unicode width tables that cost
// the compiled daemon 7.5 MB of idle RSS (bench/: binary), for output nobody sees under systemd.
import { createConsola } from "consola/basic";
import type { ConsolaInstance, LogObject } from "consola";
import { formatWithOptions } from "node:util";

/** What the concerns need of a logger; a consola instance is one, tests pass their own. */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** The daemon's root logger: tags a logger per concern, and says how verbose it is (debug is 4). */
export interface TaggedLogger extends Logger {
  level: number;
  withTag(tag: string): TaggedLogger;
}

export type LogLevelName = "silent" | "error" | "warn" | "info" | "debug" | "trace";
export type LogFormat = "text" | "json";

const levels: Record<LogLevelName, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };

function jsonLine(obj: LogObject): string {
  const [first, ...rest] = obj.args;
  const errors = obj.args.filter((a): a is Error => a instanceof Error);
  const line: Record<string, unknown> = {
    time: obj.date.toISOString(),
    level: obj.type,
    msg: formatWithOptions({ breakLength: Infinity }, first, ...rest.filter((a) => !(a instanceof Error))),
  };
  if (obj.tag) line.component = obj.tag;
  if (errors.length) line.error = errors.map((e) => e.stack ?? e.message).join("\n");
  return `${JSON.stringify(line)}\n`;
}

export function createLogger(opts: { level: LogLevelName; format: LogFormat; stream?: NodeJS.WriteStream }): ConsolaInstance {
  const stream = opts.stream ?? process.stderr;
  return createConsola({
    level: levels[opts.level],
    // Logs go to stderr: stdout belongs to commands that print results (config check, CLI).
    stdout: stream,
    stderr: stream,
    ...(opts.format === "json" ? { reporters: [{ log: (obj: LogObject) => void stream.write(jsonLine(obj)) }] } : {}),
    formatOptions: { date: true, colors: false, compact: true },
  });
}
