// Target matching on a model: the Linear modules a `target_modules` value selects (the language itself,
// peft's plus regex list entries, is defined and documented in target-modules.ts), with errors that name
// close candidates; and peft's tensor key names. Only Linear modules can carry a LoRA here (T5's q/k/v/o,
// wi/wi_0/wi_1/wo, lm_head).
import { Linear, type Module } from '@tagi/tensor-core';
import { DEFAULT_T5_TARGETS } from './config.js';
import { type TargetModules, isTargetPattern, matchesTarget } from './target-modules.js';

export { matchesTarget, targetModulesRegex } from './target-modules.js';

/** A Linear module that can carry an adapter: its path and weight shape `[out, in]`. */
export interface LinearTarget {
  readonly path: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly module: Linear;
}

/** No module matched a target specification; `candidates` are the closest module names. */
export class TargetMatchError extends Error {
  override readonly name = 'TargetMatchError';
  constructor(
    readonly targets: TargetModules,
    readonly unmatched: readonly string[],
    readonly candidates: readonly string[],
  ) {
    super(
      `target_modules: ${typeof targets === 'string' ? `regex ${JSON.stringify(targets)} matches` : `${unmatched.map((u) => JSON.stringify(u)).join(', ')} match${unmatched.length === 1 ? 'es' : ''}`} no Linear module` +
        (candidates.length > 0 ? `; closest Linear module names: ${candidates.join(', ')}` : ''),
    );
  }
}

/** Every Linear module of `model`, in registration order. */
export function linearModules(model: Module): LinearTarget[] {
  const out: LinearTarget[] = [];
  for (const [path, m] of model.namedModules()) {
    if (m instanceof Linear) out.push({ path, inFeatures: m.inFeatures, outFeatures: m.outFeatures, module: m });
  }
  return out;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The distinct last path components (and full paths for a regex) closest to `wanted`. */
function closest(wanted: string, names: readonly string[], n = 5): string[] {
  return [...new Set(names)]
    .map((name) => ({ name, d: levenshtein(wanted, name) }))
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, n)
    .map((x) => x.name);
}

export interface MatchOptions {
  /** Also fail when any single list entry matches nothing (peft only fails when nothing matches at all). */
  strict?: boolean;
}

/**
 * The Linear modules of `model` that `targets` selects (null = T5's default q, v). Throws
 * {@link TargetMatchError} with close candidates when nothing matches (or, with `strict`, when any
 * list entry matches nothing).
 */
export function matchTargets(model: Module | readonly LinearTarget[], targets: TargetModules | null, opts: MatchOptions = {}): LinearTarget[] {
  const linears = Array.isArray(model) ? (model as readonly LinearTarget[]) : linearModules(model as Module);
  const spec = targets ?? DEFAULT_T5_TARGETS;
  const hits = linears.filter((l) => matchesTarget(l.path, spec));
  const leafNames = linears.map((l) => l.path.split('.').pop() as string);
  if (typeof spec === 'string') {
    if (hits.length === 0)
      throw new TargetMatchError(
        spec,
        [spec],
        closest(
          spec,
          linears.map((l) => l.path),
        ),
      );
    return hits;
  }
  const unmatched = spec.filter((t) => !linears.some((l) => matchesTarget(l.path, [t])));
  if (hits.length === 0 || (opts.strict === true && unmatched.length > 0)) {
    // a name is compared with the last path components, a regex entry with whole paths
    const paths = linears.map((l) => l.path);
    const cands = [...new Set(unmatched.flatMap((u) => closest(u, isTargetPattern(u) ? paths : leafNames, 3)))];
    throw new TargetMatchError(spec, unmatched, cands);
  }
  return hits;
}

// ---- peft key names ----

const PREFIX = 'base_model.model.';

/** peft's tensor key for a module's factor: `base_model.model.<path>.lora_A.weight`. */
export function peftKey(path: string, factor: 'A' | 'B'): string {
  return `${PREFIX}${path}.lora_${factor}.weight`;
}

/** Inverse of {@link peftKey}; undefined for keys that are not LoRA factors. */
export function parsePeftKey(key: string): { path: string; factor: 'A' | 'B' } | undefined {
  // peft drops the adapter name on save; files saved from a live model may still carry `.default`.
  const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[A-Za-z0-9_]+)?\.weight$/.exec(key);
  if (m === null) return undefined;
  return { path: m[1] as string, factor: m[2] as 'A' | 'B' };
}
