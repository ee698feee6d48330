// SNI's official evaluation script (natural-instructions `eval/automatic/evaluation.py`):
// references carry `id`, `references`, optional `task_id`, `task_category`, `track`; predictions are
// matched by id. Per track ('default', then 'xlingual'): overall, per-category and per-task metrics.
//   - a reference without `track` is 'default';
//   - a missing prediction counts as the empty string (the script prints a warning; we list the ids);
//   - the 'xlingual' track is scored with a GPT-2 tokenizer in SNI: pass it as `xlingualTokenizer`
//     (tokens with the 'Ġ' prefix stripped); without one, an xlingual instance is an error;
//   - a track without instances is skipped (the script would divide by zero).

import { EvalInputError } from './errors.js';
import { computeGroupedMetrics, computeMetrics, sniCategoryKey, type Metrics } from './metrics.js';
import type { RougeTokenizer } from './rouge.js';

/** One line of SNI's reference file (`test_references.jsonl`). */
export interface SniReference {
  readonly id: string;
  readonly references: readonly string[];
  readonly task_id?: string;
  readonly task_category?: string;
  readonly track?: string;
}

export interface SniTrackResult {
  readonly track: 'default' | 'xlingual';
  readonly overall: Metrics;
  /** keyed by `sniCategoryKey(task_category)`, present when the references carry categories */
  readonly byCategory: Map<string, Metrics> | null;
  /** keyed by `task_id`, present when the references carry task ids */
  readonly byTask: Map<string, Metrics> | null;
  /** ids without a prediction (scored as '') */
  readonly missing: string[];
}

export interface SniEvaluationOptions {
  /** tokenizer for the 'xlingual' track (SNI: GPT-2 tokens with 'Ġ' stripped) */
  readonly xlingualTokenizer?: RougeTokenizer;
  readonly roundDigits?: number | null;
}

/** Scores predictions (by id) against SNI reference records, track by track. */
export function evaluateSni(
  references: readonly SniReference[],
  predictions: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  opts: SniEvaluationOptions = {},
): SniTrackResult[] {
  const fn = 'evaluateSni';
  if (!Array.isArray(references)) throw new EvalInputError(fn, 'references', 'an array of SNI reference records', references);
  const lookup = (id: string): string | undefined =>
    predictions instanceof Map
      ? predictions.get(id)
      : Object.prototype.hasOwnProperty.call(predictions, id)
        ? (predictions as Record<string, string>)[id]
        : undefined;
  const seen = new Set<string>();
  references.forEach((r, i) => {
    if (r === null || typeof r !== 'object') throw new EvalInputError(fn, `references[${i}]`, 'an object', r);
    if (typeof r.id !== 'string') throw new EvalInputError(fn, `references[${i}].id`, 'a string', r.id);
    // the script keys instances by id in a dict: a repeated id would silently replace the first
    if (seen.has(r.id)) throw new EvalInputError(fn, `references[${i}].id`, 'an id not used earlier', r.id);
    seen.add(r.id);
    const track = r.track ?? 'default';
    if (track !== 'default' && track !== 'xlingual') {
      throw new EvalInputError(fn, `references[${i}].track`, "'default' or 'xlingual'", r.track);
    }
    if (track === 'xlingual' && !opts.xlingualTokenizer) {
      throw new EvalInputError(fn, 'opts.xlingualTokenizer', `a tokenizer for the xlingual track (references[${i}] is xlingual)`, undefined);
    }
  });
  const results: SniTrackResult[] = [];
  for (const track of ['default', 'xlingual'] as const) {
    const instances = references.filter((r) => (r.track ?? 'default') === track);
    if (instances.length === 0) continue;
    const missing: string[] = [];
    const preds = instances.map((r) => {
      const p = lookup(r.id);
      if (p === undefined) {
        missing.push(r.id);
        return '';
      }
      return p;
    });
    const refs = instances.map((r) => r.references);
    const metricOpts = {
      ...(track === 'xlingual' && opts.xlingualTokenizer ? { tokenizer: opts.xlingualTokenizer } : {}),
      ...(opts.roundDigits === undefined ? {} : { roundDigits: opts.roundDigits }),
    };
    const first = instances[0] as SniReference;
    const groupBy = (key: 'task_id' | 'task_category'): string[] =>
      instances.map((r, i) => {
        const v = r[key];
        if (typeof v !== 'string') throw new EvalInputError(fn, `references (${track} track)[${i}].${key}`, 'a string, as on the first instance', v);
        return key === 'task_category' ? sniCategoryKey(v) : v;
      });
    results.push({
      track,
      overall: computeMetrics(preds, refs, metricOpts),
      byCategory: first.task_category === undefined ? null : computeGroupedMetrics(preds, refs, groupBy('task_category'), metricOpts),
      byTask: first.task_id === undefined ? null : computeGroupedMetrics(preds, refs, groupBy('task_id'), metricOpts),
      missing,
    });
  }
  return results;
}

const SNI_METRIC_NAMES: readonly [keyof Omit<Metrics, 'count'>, string][] = [
  ['exactMatch', 'exact_match'],
  ['rouge1', 'rouge1'],
  ['rougeL', 'rougeL'],
];

/**
 * The flat key space of the official script's output file: `exact_match_default_track`,
 * `rougeL_for_title_generation_default_track`, `rougeL_for_task1356_xlsum_title_generation_default_track`, ...
 */
export function sniResultKeys(results: readonly SniTrackResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    for (const [k, name] of SNI_METRIC_NAMES) out[`${name}_${r.track}_track`] = r.overall[k];
    for (const groups of [r.byCategory, r.byTask]) {
      if (!groups) continue;
      for (const [g, m] of groups) for (const [k, name] of SNI_METRIC_NAMES) out[`${name}_for_${g}_${r.track}_track`] = m[k];
    }
  }
  return out;
}
