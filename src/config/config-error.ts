// The one error type of the config concern. The CLI prints its message and exits with
// `exitCode` (2: a usage / configuration error, not a crash).

export interface ConfigErrorDetails {
  /** The key as the user wrote it: "server.listen_address", "listen_address", "LIMIQUANTIX_LOG_LEVEL", "--listen". */
  key: string;
  /** The offending value as given (undefined when the problem is a missing value). */
  value?: unknown;
  /** What would have been accepted, e.g. "one of: mock, libvirt". */
  allowed: string;
  /** "path/to/node.yaml:LINE:COL" when the value came from a file. */
  location?: string;
  line?: number;
  column?: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly exitCode = 2;
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
  readonly location: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(message: string, details: ConfigErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.key = details.key;
    this.value = details.value;
    this.allowed = details.allowed;
    this.location = details.location;
    this.line = details.line;
    this.column = details.column;
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}

/** A value as it should appear in a message: strings quoted, long values cut. */
export function formatValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (value === undefined) text = "(missing)";
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** `config: KEY: "VALUE" PROBLEM (at FILE:LINE:COL)` — the shape every value error takes. */
export function valueError(
  key: string,
  value: unknown,
  problem: string,
  allowed: string,
  where?: { location: string; line: number; column: number },
): ConfigError {
  const at = where ? ` (at ${where.location})` : "";
  return new ConfigError(`config: ${key}: ${formatValue(value)} ${problem}${at}`, {
    key,
    value,
    allowed,
    ...where,
  });
}
