// Recognising a typed parameter's name in place, from its bytes, without making a string of it.
// A metrics tick's bulk statistics hold ~30 parameters per VM of which it keeps a dozen; turning
// every name into a JS string cost more of the call Worker's CPU than libvirt's own work for the
// call (bench/README.md, "Reading the statistics in place"). A byte trie of the wanted names
// answers "which of them, if any" by walking the name once and stopping at the first byte no
// wanted name has there.

/** Stands for a device index in a pattern ("block.*.rd.bytes"): one or more ASCII digits. */
const INDEX = "*";
export const NO_MATCH = -1;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Returns which pattern (its position in the list) the NUL-terminated name at bytes[start] is,
 * or -1. A name longer than maxLength bytes without its NUL matches nothing.
 */
export type NameMatcher = (bytes: Uint8Array, start: number, maxLength: number) => number;

/**
 * A matcher for printable ASCII patterns, "*" standing for a device index; digits appear only
 * through "*" (so no two patterns can both match a name). A pattern listed twice throws.
 */
export function createNameMatcher(patterns: readonly string[]): NameMatcher {
  // Node n's edges are next[n * 256 + byte] (0: none; node 0 is the root, never a target).
  let next = new Int32Array(256 * 16);
  const found: number[] = [NO_MATCH];
  const newNode = (): number => {
    found.push(NO_MATCH);
    if (found.length * 256 > next.length) {
      const bigger = new Int32Array(next.length * 2);
      bigger.set(next);
      next = bigger;
    }
    return found.length - 1;
  };

  patterns.forEach((pattern, index) => {
    let node = 0;
    for (let k = 0; k < pattern.length; k++) {
      const code = pattern.charCodeAt(k);
      if (code <= 0x20 || code > 0x7e) throw new Error(`name pattern ${JSON.stringify(pattern)}: only printable ASCII is allowed`);
      if (code >= DIGIT_0 && code <= DIGIT_9) throw new Error(`name pattern ${JSON.stringify(pattern)}: digits only through "${INDEX}"`);
      if (pattern[k] === INDEX) {
        // One node for the index, shared by every pattern with an index here: entered on any
        // digit, looping on further digits.
        let digits = next[node * 256 + DIGIT_0] as number;
        if (digits === 0) {
          digits = newNode();
          for (let d = DIGIT_0; d <= DIGIT_9; d++) {
            next[node * 256 + d] = digits;
            next[digits * 256 + d] = digits;
          }
        }
        node = digits;
        continue;
      }
      let to = next[node * 256 + code] as number;
      if (to === 0) {
        to = newNode();
        next[node * 256 + code] = to;
      }
      node = to;
    }
    if (found[node] !== NO_MATCH) throw new Error(`name pattern ${JSON.stringify(pattern)} is listed twice`);
    found[node] = index;
  });

  const table = next;
  const result = Int32Array.from(found);
  return (bytes, start, maxLength) => {
    let node = 0;
    const end = start + maxLength;
    for (let at = start; at < end; at++) {
      const byte = bytes[at] as number;
      if (byte === 0) return result[node] as number;
      node = table[node * 256 + byte] as number;
      if (node === 0) return NO_MATCH;
    }
    return NO_MATCH;
  };
}
