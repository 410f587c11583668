// One error type for every parser: it names the file and, when it can, the line, so a report
// from a strange kernel says exactly what was not understood.

export class TelemetryParseError extends Error {
  override readonly name = "TelemetryParseError";
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? "" : `:${line}`}: ${reason}`);
  }
}

const UINT = /^\d+$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A non-negative integer field; anything else (empty, "-", "12ab") is a parse error. */
export function uintField(value: string | undefined, file: string, line: number, what: string): number {
  if (value === undefined || !UINT.test(value)) {
    throw new TelemetryParseError(file, line, `${what}: expected an unsigned integer, got ${JSON.stringify(value ?? "")}`);
  }
  return Number(value);
}

/** A decimal field such as a load average or uptime. */
export function decimalField(value: string | undefined, file: string, line: number, what: string): number {
  if (value === undefined || !DECIMAL.test(value)) {
    throw new TelemetryParseError(file, line, `${what}: expected a number, got ${JSON.stringify(value ?? "")}`);
  }
  return Number(value);
}

/** Lines of a kernel text file without the trailing empty line; numbering starts at 1. */
export function lines(text: string): string[] {
  const all = text.split("\n");
  if (all.length > 0 && all[all.length - 1] === "") all.pop();
  return all;
}

/** Whitespace-separated fields of one line. */
export function fields(line: string): string[] {
  const trimmed = line.trim();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}
