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

/**
 * Reads text made only of well-formed lines in one pass: at each line's start, the first of the
 * sticky (`y`) patterns that matches (each ends with the line's "\n") is handed to onLine with its
 * index. False as soon as a line matches none: the caller then runs its line-by-line reader,
 * which says what is wrong and where. Regular expressions are compiled to machine code once,
 * where per-line string work runs cold in a sampler that runs once a second (bench/README.md,
 * "Where the rest of a tick goes").
 */
export function readWellFormedLines(text: string, patterns: readonly RegExp[], onLine: (m: RegExpExecArray, which: number) => void): boolean {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  let at = 0;
  next: while (at < body.length) {
    for (let which = 0; which < patterns.length; which++) {
      const pattern = patterns[which] as RegExp;
      pattern.lastIndex = at;
      const m = pattern.exec(body);
      if (m !== null) {
        onLine(m, which);
        at = pattern.lastIndex;
        continue next;
      }
    }
    return false;
  }
  return true;
}
