// Disk paths a client names (existing images, ISOs, backing files of new images) must lie inside
// the node's storage roots: otherwise CreateVM or AttachDisk hands any host file to a guest
// (/etc/shadow as a read-only disk, a raw block device of the host). The check is lexical (no
// '..') and physical: the real path of the deepest existing ancestor, every symlink resolved,
// must stay inside the real path of a root. A dangling symlink is refused, because whatever
// later creates its target would write wherever it points.
//
// Checked when the request arrives; a symlink swapped in afterwards is the backend's concern.

import { lstat, realpath } from "node:fs/promises";
import { posix } from "node:path";
import { invalidField } from "./errors.ts";

export interface StorageRoots {
  /** The configured roots, as configured. */
  readonly roots: readonly string[];
  /** Resolves when `path` is inside a root; rejects with INVALID_ARGUMENT naming `field` otherwise. */
  check(path: string, field: string): Promise<void>;
}

type Resolved = { kind: "ok"; real: string } | { kind: "dangling" } | { kind: "unreadable" };

const isInside = (path: string, root: string) => path === root || path.startsWith(root === "/" ? "/" : `${root}/`);

/** realpath of the deepest existing ancestor, with the missing tail appended. */
async function resolveDeepest(path: string): Promise<Resolved> {
  let current = posix.normalize(path);
  const missing: string[] = [];
  for (;;) {
    try {
      const real = await realpath(current);
      return { kind: "ok", real: missing.length ? posix.join(real, ...missing.reverse()) : real };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") return { kind: "unreadable" };
      const isLink = await lstat(current).then(
        (s) => s.isSymbolicLink(),
        () => false,
      );
      if (isLink) return { kind: "dangling" };
      const parent = posix.dirname(current);
      if (parent === current) return { kind: "ok", real: posix.join("/", ...missing.reverse()) };
      missing.push(posix.basename(current));
      current = parent;
    }
  }
}

const normalized = (roots: readonly string[]) => [...new Set(roots.map((r) => posix.normalize(r).replace(/(.)\/$/, "$1")))];

/** `more` adds roots that change while the daemon runs: the storage pools' directories. */
export function createStorageRoots(roots: readonly string[], more: () => Promise<readonly string[]> = async () => []): StorageRoots {
  const fixed = normalized(roots);

  async function check(path: string, field: string): Promise<void> {
    const configured = normalized([...fixed, ...(await more())]);
    const rule = `must be inside the storage roots (${configured.join(", ") || "none configured"})`;
    if (!path.startsWith("/")) throw invalidField(field, `must be an absolute path ${rule}`);
    if (path.includes("\0")) throw invalidField(field, "must not contain NUL");
    if (path.split("/").includes("..")) throw invalidField(field, `must not contain '..' segments; it ${rule}`);
    const lexical = posix.normalize(path);
    if (!configured.some((root) => isInside(lexical, root))) throw invalidField(field, `${rule}, got ${JSON.stringify(path)}`);

    const target = await resolveDeepest(lexical);
    if (target.kind === "dangling") throw invalidField(field, `is a symlink whose target does not exist; it ${rule}`);
    if (target.kind === "unreadable") throw invalidField(field, `cannot be checked against the storage roots (permission denied)`);
    // Roots are resolved on every check: an operator may create or move them while we run.
    const realRoots = await Promise.all(configured.map(resolveDeepest));
    const inside = realRoots.some((r) => r.kind === "ok" && isInside(target.real, r.real));
    // Never name where the link points: that is a host path outside the roots.
    if (!inside) throw invalidField(field, `resolves outside the storage roots through a symlink; it ${rule}`);
  }

  return { roots: fixed, check };
}
