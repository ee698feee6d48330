// "Did you mean" suggestions for unknown keys, presets and flags.

/** Levenshtein distance (insert, delete, substitute; case-insensitive). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const cur = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[t.length] ?? 0;
}

/**
 * The closest candidates to `word`: distance within a third of the word's length (at least 2), or the
 * candidate ending with the same last segment (`steps` → `base.steps`). Best first, at most `max`.
 */
export function suggest(word: string, candidates: readonly string[], max = 3): string[] {
  const last = word.split('.').pop() ?? word;
  const limit = Math.max(2, Math.floor(last.length / 3));
  const scored: [string, number][] = [];
  for (const c of candidates) {
    let d = editDistance(word, c);
    const cLast = c.split('.').pop() ?? c;
    if (d > limit) {
      const dl = editDistance(last, cLast);
      if (dl <= Math.max(1, Math.floor(last.length / 4)))
        d = limit + dl; // same leaf under another parent
      else continue;
    }
    scored.push([c, d]);
  }
  scored.sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  return scored.slice(0, max).map(([c]) => c);
}

/** " (did you mean 'x' or 'y'?)" or "" */
export function didYouMean(word: string, candidates: readonly string[], quote = (s: string) => `'${s}'`): string {
  const s = suggest(word, candidates);
  return s.length === 0 ? '' : ` (did you mean ${s.map(quote).join(' or ')}?)`;
}
