// libvirt keeps "user aliases" (ua-...) across define, start and hot-plug, so the disk and NIC ids
// of the spec ride in them. libvirt only allows [A-Za-z0-9_-] in an alias, so any other byte of
// the id (and "_" itself, the escape character) is written as _XX, the hex of its UTF-8 byte.

const PLAIN = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-");

export const DISK_ALIAS_PREFIX = "ua-disk-";
export const NIC_ALIAS_PREFIX = "ua-nic-";

export function encodeAliasId(id: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(id)) {
    const ch = String.fromCharCode(byte);
    out += PLAIN.has(ch) ? ch : `_${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** The id inside an alias, or undefined when the text is not a well-formed encoding. */
export function decodeAliasId(encoded: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const ch = encoded[i] ?? "";
    if (ch === "_") {
      const hex = encoded.slice(i + 1, i + 3);
      if (hex.length !== 2 || !/^[0-9a-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (PLAIN.has(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      return undefined;
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

export const diskAlias = (id: string) => DISK_ALIAS_PREFIX + encodeAliasId(id);
export const nicAlias = (id: string) => NIC_ALIAS_PREFIX + encodeAliasId(id);

/** The spec id carried by an alias with the given prefix, or undefined. */
export function idFromAlias(alias: string | undefined, prefix: string): string | undefined {
  if (alias === undefined || !alias.startsWith(prefix)) return undefined;
  return decodeAliasId(alias.slice(prefix.length));
}
