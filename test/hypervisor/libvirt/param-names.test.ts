// createNameMatcher (param-names.ts): which wanted name a typed parameter's bytes spell, walked
// in place; checked against a plain string comparison for any name.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createNameMatcher, NO_MATCH } from "../../../src/hypervisor/libvirt/param-names.ts";

const PATTERNS = ["state.state", "state.reason", "cpu.time", "balloon.rss", "block.*.rd.bytes", "block.*.wr.bytes", "net.*.rx.pkts"];
const match = createNameMatcher(PATTERNS);

/** The name's bytes and its NUL at offset `at` of an 80-byte field, as libvirt stores it. */
function field(name: string, at = 0): Uint8Array {
  const bytes = new Uint8Array(at + 80);
  bytes.set(new TextEncoder().encode(name), at);
  return bytes;
}

/** The same question answered with strings: the pattern whose "*" spans one or more digits. */
function reference(name: string): number {
  return PATTERNS.findIndex((p) => new RegExp(`^${p.replaceAll(".", "\\.").replaceAll("*", "\\d+")}$`).test(name));
}

describe("createNameMatcher", () => {
  test("each pattern's name, a device index of any length, at any offset", () => {
    expect(match(field("state.state"), 0, 80)).toBe(0);
    expect(match(field("state.reason", 96), 96, 80)).toBe(1);
    expect(match(field("cpu.time"), 0, 80)).toBe(2);
    expect(match(field("block.0.rd.bytes"), 0, 80)).toBe(4);
    expect(match(field("block.127.wr.bytes"), 0, 80)).toBe(5);
    expect(match(field("net.3.rx.pkts"), 0, 80)).toBe(6);
  });

  test("a name one byte short, one byte longer, without an index, or another figure: none", () => {
    for (const name of [
      "cpu.tim",
      "cpu.timex",
      "cpu.time.user",
      "block..rd.bytes",
      "block.x.rd.bytes",
      "block.0.rd.times",
      "balloon.rss2",
      "",
      "net.1.rx.bytes",
    ]) {
      expect(match(field(name), 0, 80)).toBe(NO_MATCH);
    }
  });

  test("a name with no NUL within the field matches nothing (no read past the field)", () => {
    const bytes = field("cpu.time");
    bytes[8] = 0x78; // "cpu.timex..." and no NUL within the first 9 bytes
    expect(match(bytes, 0, 9)).toBe(NO_MATCH);
    expect(match(field("cpu.time"), 0, 8)).toBe(NO_MATCH);
    expect(match(field("cpu.time"), 0, 9)).toBe(2);
  });

  test("agrees with a string comparison for any name made of the patterns' pieces", () => {
    const piece = fc.constantFrom("state", "reason", "cpu", "time", "balloon", "rss", "block", "rd", "wr", "bytes", "net", "rx", "pkts", "0", "12", "x", "");
    const name = fc.array(piece, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("."));
    fc.assert(
      fc.property(name, (n) => {
        expect(match(field(n), 0, 80)).toBe(reference(n));
      }),
      { numRuns: 2000 },
    );
  });

  test("patterns it cannot keep apart are refused when the matcher is made", () => {
    expect(() => createNameMatcher(["a.b", "a.b"])).toThrow('name pattern "a.b" is listed twice');
    expect(() => createNameMatcher(["block.0.rd"])).toThrow('digits only through "*"');
    expect(() => createNameMatcher(["a b"])).toThrow("only printable ASCII");
  });
});
