// "Did you mean ...?" for unknown config keys, environment variables, commands and flags.

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

const leaf = (path: string, sep: string) => path.slice(path.lastIndexOf(sep) + 1);

/**
 * The known name closest to `unknown`: a small edit away (a typo), or, with `leafSep`, the
 * same last segment in another section ("server.backend" -> "hypervisor.backend").
 */
export function nearest(unknown: string, known: readonly string[], leafSep?: string): string | undefined {
  const u = unknown.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(u, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const threshold = Math.max(2, Math.floor(u.length / 4));
  if (best !== undefined && bestDistance <= threshold) return best;
  if (leafSep === undefined || !u.includes(leafSep)) return undefined;
  const sameLeaf = known.filter((k) => k.includes(leafSep) && leaf(k, leafSep).toLowerCase() === leaf(u, leafSep));
  return sameLeaf.length === 1 ? sameLeaf[0] : undefined;
}
