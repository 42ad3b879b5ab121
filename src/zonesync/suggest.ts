/** "Did you mean …" for mistyped keys. */

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbouring
 * characters each cost 1, so `prot` is one step from `port`.
 */
export function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  // d[i * width + j] is the distance between the first i characters of a and the first j of b.
  const d = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number): number => d[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest candidate within maxDistance (ties go to the earlier candidate), or undefined. */
export function closest(input: string, candidates: readonly string[], maxDistance = 3): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = editDistance(input, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * The candidate a mistyped `-`-separated name most likely meant: the closest by edit distance, else the
 * shortest candidate that contains every segment of the input, so `zone-sync-ipv6` finds
 * `zone-sync-resolver-ipv6` and `zone-sync-secret` finds `zone-sync-tls-secret`.
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const near = closest(input, candidates);
  if (near !== undefined) return near;
  const wanted = input.split("-").filter((s) => s !== "");
  const containing = candidates.filter((c) => {
    const segments = new Set(c.split("-"));
    return wanted.every((s) => segments.has(s));
  });
  return containing.sort((a, b) => a.length - b.length)[0];
}
