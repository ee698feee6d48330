// The span-corruption objective of the base pretraining: (source ids, target ids) pairs.
import type { Rng } from '@tagi/tensor-core';

export interface IdPair {
  src: readonly number[];
  tgt: readonly number[];
}

/**
 * T5 span corruption: about `density` of the tokens in spans of mean length `meanSpan` are replaced by
 * one sentinel each in the input; the target lists each sentinel followed by the span it hides, then eos.
 * `ids` excludes eos.
 */
export function spanCorruption(ids: readonly number[], rng: Rng, sentinels: readonly number[], eos: number, density = 0.15, meanSpan = 3): IdPair {
  const n = ids.length;
  const nNoise = Math.max(1, Math.min(n - 1, Math.round(n * density)));
  const nSpans = Math.max(1, Math.min(sentinels.length, Math.round(nNoise / meanSpan)));
  const noise = new Array<boolean>(n).fill(false);
  // span starts: distinct positions, sorted; each span runs up to the next start
  let placed = 0;
  for (let tries = 0; placed < nNoise && tries < n * 4; tries++) {
    const start = Math.floor(rng.next() * n);
    const len = 1 + Math.floor(rng.next() * (2 * meanSpan - 1));
    let spansNow = 0;
    for (let i = 0; i < n; i++) if (noise[i] && (i === 0 || !noise[i - 1])) spansNow++;
    const opensNew = !(noise[start - 1] ?? false) && !(noise[start + len] ?? false);
    if (opensNew && spansNow >= nSpans) continue;
    for (let i = start; i < Math.min(n, start + len) && placed < nNoise; i++) {
      if (!noise[i]) {
        noise[i] = true;
        placed++;
      }
    }
  }
  const src: number[] = [];
  const tgt: number[] = [];
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (noise[i]) {
      if (i === 0 || !noise[i - 1]) {
        const sentinel = sentinels[Math.min(s, sentinels.length - 1)] as number;
        src.push(sentinel);
        tgt.push(sentinel);
        s++;
      }
      tgt.push(ids[i] as number);
    } else src.push(ids[i] as number);
  }
  src.push(eos);
  tgt.push(eos);
  return { src, tgt };
}
