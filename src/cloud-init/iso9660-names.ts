// File names in the two directory trees of the image. Joliet carries the real name (what Linux,
// and so cloud-init, sees: the kernel's isofs prefers Joliet); the primary ISO 9660 tree needs
// d-characters only, so its names are a mapped, upper-case, possibly shortened copy, kept unique.

import { HypervisorError } from "../hypervisor/errors.ts";

export const MAX_FILES = 64;
/** Joliet's limit: 64 UCS-2 characters per file identifier. */
export const MAX_NAME_LENGTH = 64;
/** ECMA-119 7.5.1: file name plus extension at most 30 characters (levels 2 and 3). */
const MAX_PRIMARY_LENGTH = 30;
const MAX_PRIMARY_EXTENSION = 8;

export function invalidCloudInit(rule: string): HypervisorError {
  return new HypervisorError("invalid_argument", `cloud-init ISO: ${rule}`, "spec.cloudInit");
}

// Characters Joliet forbids in identifiers besides '/': control characters and * : ; ? \.
// ';' would also read as a version separator.
const JOLIET_FORBIDDEN = /[\u0000-\u001f*:;?\\]/;

/** Throws invalid_argument for the first name that cannot be written as a root directory file. */
export function checkFileNames(names: readonly string[]): void {
  if (names.length > MAX_FILES) throw invalidCloudInit(`${names.length} files, at most ${MAX_FILES} allowed`);
  const seen = new Set<string>();
  names.forEach((name, i) => {
    const which = `file ${i} name ${JSON.stringify(name)}`;
    if (name.length === 0) throw invalidCloudInit(`file ${i} has an empty name`);
    if (name.includes("/")) throw invalidCloudInit(`${which} contains '/': only a flat root directory is written`);
    if (name.length > MAX_NAME_LENGTH) {
      throw invalidCloudInit(`${which} is ${name.length} characters long, at most ${MAX_NAME_LENGTH} allowed`);
    }
    if (name === "." || name === "..") throw invalidCloudInit(`${which} is reserved`);
    // Linux's isofs strips trailing periods from Joliet names (fs/isofs/joliet.c), so the guest
    // would see another name than the one written.
    if (name.endsWith(".")) throw invalidCloudInit(`${which} ends with '.'`);
    if (JOLIET_FORBIDDEN.test(name)) {
      throw invalidCloudInit(`${which} contains a control character or one of * : ; ? \\ (not allowed by Joliet)`);
    }
    // Joliet is UCS-2: a surrogate pair would be two characters of nonsense to most readers.
    if (/[\ud800-\udfff]/.test(name)) throw invalidCloudInit(`${which} contains a character outside the BMP`);
    if (seen.has(name)) throw invalidCloudInit(`${which} appears twice`);
    seen.add(name);
  });
}

/** d-characters (ECMA-119 7.4.1): A-Z 0-9 _; lower case is upper-cased, anything else becomes '_'. */
export function dCharacters(text: string): string {
  let out = "";
  for (const c of text) {
    if (/^[A-Z0-9_]$/.test(c)) out += c;
    else if (/^[a-z]$/.test(c)) out += c.toUpperCase();
    else out += "_";
  }
  return out;
}

/** A primary-tree file identifier before the ";1" version: NAME and EXT around a '.' (7.5.1). */
export interface PrimaryName {
  name: string;
  extension: string;
}

/** "NAME.EXT;1"; the '.' stays even when EXT is empty, as 7.5.1 requires. */
export function primaryIdentifier(p: PrimaryName): string {
  return `${p.name}.${p.extension};1`;
}

/** Maps one real name; the last '.' (if any) starts the extension. */
export function primaryName(real: string): PrimaryName {
  const dot = real.lastIndexOf(".");
  const [base, ext] = dot === -1 ? [real, ""] : [real.slice(0, dot), real.slice(dot + 1)];
  const extension = dCharacters(ext).slice(0, MAX_PRIMARY_EXTENSION);
  return { name: dCharacters(base).slice(0, MAX_PRIMARY_LENGTH - extension.length), extension };
}

/**
 * Primary names for a set of real names, in the same order, unique: "a-b" and "a_b" would both
 * map to A_B, so later ones get a "_<n>" suffix. Collisions are resolved in Joliet order, so the
 * result does not depend on the order the names were given in.
 */
export function primaryNames(reals: readonly string[]): PrimaryName[] {
  const taken = new Set<string>();
  const byReal = new Map<string, PrimaryName>();
  for (const real of [...reals].sort(compareJoliet)) {
    let p = primaryName(real);
    for (let n = 1; taken.has(primaryIdentifier(p)); n++) {
      const suffix = `_${n}`;
      const base = primaryName(real);
      p = { ...base, name: base.name.slice(0, MAX_PRIMARY_LENGTH - base.extension.length - suffix.length) + suffix };
    }
    taken.add(primaryIdentifier(p));
    byReal.set(real, p);
  }
  return reals.map((r) => byReal.get(r) as PrimaryName);
}

/**
 * 9.3: directory records are ordered by file name, then extension, each compared as if padded
 * with spaces. d-characters all sort above the space, so a plain comparison where the shorter
 * prefix sorts first gives the same order.
 */
export function comparePrimary(a: PrimaryName, b: PrimaryName): number {
  return compareCodeUnits(a.name, b.name) || compareCodeUnits(a.extension, b.extension);
}

/** Joliet orders by UCS-2 code units, with the same padding rule; names here contain no control characters. */
export function compareJoliet(a: string, b: string): number {
  return compareCodeUnits(a, b);
}

function compareCodeUnits(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
