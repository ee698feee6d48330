// The whole results summary of a run from per-instance scores: every method × setting with a
// task-level bootstrap CI, several seeds per method, paired differences, reference rows and relative
// cost; rendered as results.md tables and results.json (format 'tagi-results', version 2).
//
// Point estimates follow SNI's compute_metrics.py: the mean over all instances of a setting, i.e.
// per-task means weighted by instance counts (`weighting: 'task'` gives the mean of task means).
// With several seeds the estimate is the mean over seeds. Intervals: see bootstrap.ts.

import {
  bootstrapDistributions,
  differenceInterval,
  resolveBootstrapOptions,
  scoreInterval,
  seededIndexSource,
  type IntervalMethod,
  type ScoreMatrix,
  type SeedPairing,
} from './bootstrap.js';
import { EvalInputError } from './errors.js';
import { stableStringify, type ResultsTable } from './report.js';

export type SummaryMetric = 'rougeL' | 'exactMatch';
const METRICS: readonly SummaryMetric[] = ['rougeL', 'exactMatch'];
const METRIC_LABEL: Record<SummaryMetric, string> = { rougeL: 'ROUGE-L', exactMatch: 'Exact match' };
const METRIC_JSON: Record<SummaryMetric, string> = { rougeL: 'rouge_l', exactMatch: 'exact_match' };

/** One scored instance (what the evaluation loop produces). Scores are ×100 like SNI's. */
export interface ScoreRecord {
  readonly method: string;
  /** training seed of the method's model; absent or null for a method trained once (base, multitask, baselines) */
  readonly seed?: number | string | null;
  readonly taskId: string;
  /** evaluation setting, e.g. 'seen-train', 'seen-new', 'heldout-combination', 'heldout-family' */
  readonly split: string;
  readonly rougeL: number;
  readonly exactMatch?: number;
  /** optional: when given, a (method, seed, split, task, instance) scored twice is an error */
  readonly instanceId?: string;
}

export interface MethodSpec {
  readonly id: string;
  /** row label; default the id */
  readonly label?: string;
  /** 'method' (default) or 'reference': a baseline such as copy-input, listed after the methods and never bold */
  readonly kind?: 'method' | 'reference';
  /** estimated FLOPs per instance relative to the reference method (e.g. 0.39) */
  readonly relativeFlops?: number | null;
  /** measured wall time per instance relative to the reference method */
  readonly relativeTime?: number | null;
  /** why the row has no scores (e.g. a stage that did not run); printed in the notes */
  readonly reason?: string;
}

export interface ColumnSpec {
  readonly key: string;
  /** header text; default the key */
  readonly label?: string;
  /** the record splits pooled into this column (a task in two of them pools its instances) */
  readonly splits: readonly string[];
}

export interface ComparisonSpec {
  /** method id of A in A − B */
  readonly a: string;
  readonly b: string;
  /** default '<label A> − <label B>' */
  readonly label?: string;
}

export interface SummaryOptions {
  readonly title?: string;
  /** row order, labels, kinds and cost; default: methods in first-seen order, labelled by id */
  readonly methods?: readonly MethodSpec[];
  /** default: one column per split, in first-seen order */
  readonly columns?: readonly ColumnSpec[];
  /** paired differences to report, e.g. [{a: 'tagi', b: 'no-adapter'}]; default none */
  readonly comparisons?: readonly ComparisonSpec[];
  /** default: both when every record has exactMatch, else ['rougeL'] */
  readonly metrics?: readonly SummaryMetric[];
  /** 'instance' (SNI: mean over instances; default) or 'task' (mean of per-task means) */
  readonly weighting?: 'instance' | 'task';
  /** bootstrap resamples; default 10,000 */
  readonly resamples?: number;
  /** bootstrap RNG seed; default 0 */
  readonly seed?: number;
  /** CI coverage; default 0.95 */
  readonly level?: number;
  /** 'percentile' (default) or 'bca' */
  readonly interval?: IntervalMethod;
  /** how seeds pair in differences between two seeded methods; default 'independent' (see bootstrap.ts) */
  readonly seedPairing?: SeedPairing;
  /** free-text lines printed under the tables */
  readonly notes?: readonly string[];
}

export interface SummaryScore {
  readonly estimate: number;
  /** null when the column has fewer than 2 tasks (nothing to resample) */
  readonly lo: number | null;
  readonly hi: number | null;
  readonly standardError: number | null;
  readonly tasks: number;
  readonly instances: number;
  /** each seed's mean over the column's instances */
  readonly seedMeans: readonly { readonly seed: string; readonly mean: number }[];
  /** sample SD of the seed means; null with fewer than 2 seeds */
  readonly seedSd: number | null;
}

export interface SummaryDifference {
  readonly estimate: number;
  readonly lo: number | null;
  readonly hi: number | null;
  readonly standardError: number | null;
  /** fraction of resamples with A − B ≤ 0 (one-sided bootstrap p-value for A > B); null without a CI */
  readonly pValue: number | null;
  readonly tasks: number;
}

export interface SummaryRow {
  readonly method: string;
  readonly label: string;
  readonly kind: 'method' | 'reference';
  /** seed labels; empty for a method trained once */
  readonly seeds: readonly string[];
  readonly relativeFlops: number | null;
  readonly relativeTime: number | null;
  readonly reason: string | null;
  /** per column key, per metric; null where the method has no records in that column */
  readonly scores: Readonly<Record<string, Readonly<Partial<Record<SummaryMetric, SummaryScore | null>>>>>;
}

export interface SummaryComparison {
  readonly a: string;
  readonly b: string;
  readonly label: string;
  readonly scores: Readonly<Record<string, Readonly<Partial<Record<SummaryMetric, SummaryDifference | null>>>>>;
}

export interface SummaryColumn {
  readonly key: string;
  readonly label: string;
  readonly splits: readonly string[];
  /** tasks and instances in the column (every method with records covers all of them) */
  readonly tasks: number;
  readonly instances: number;
}

export interface ResultsSummary {
  readonly title: string | null;
  readonly config: {
    readonly resamples: number;
    readonly seed: number;
    readonly level: number;
    readonly interval: IntervalMethod;
    readonly weighting: 'instance' | 'task';
    readonly seedPairing: SeedPairing;
    readonly metrics: readonly SummaryMetric[];
  };
  readonly columns: readonly SummaryColumn[];
  readonly rows: readonly SummaryRow[];
  readonly differences: readonly SummaryComparison[];
  readonly notes: readonly string[];
}

const FN = 'summarizeResults';

/** Task-level sums per (method, seed, split, task). */
interface Cell {
  count: number;
  sums: number[]; // per metric index in METRICS
}

function compareSeeds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function optionalRatio(where: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new EvalInputError(FN, where, 'a non-negative finite number or null', v);
  return v;
}

/**
 * Summarises per-instance records into every table of results.md / results.json: per method and
 * column the mean with a task-level bootstrap CI (tasks and, for seeded methods, seeds resampled), the
 * per-seed means, and paired differences. Deterministic for a given `opts.seed`; the order of records
 * does not matter (tasks are sorted by id before resampling).
 */
/** The records grouped method → seed → split → task into score sums, checked one by one (each error names its record). */
interface GroupedRecords {
  /** Per method: whether its records carry seeds, and which. */
  readonly seen: Map<string, { seeded: boolean; seeds: Set<string> }>;
  /** Methods and splits in the order the records first name them. */
  readonly methodOrder: string[];
  readonly splitOrder: string[];
  readonly tree: Map<string, Map<string, Map<string, Map<string, Cell>>>>; // method -> seed -> split -> task
  readonly everyHasEm: boolean;
}

function groupRecords(records: readonly ScoreRecord[]): GroupedRecords {
  const seen = new Map<string, { seeded: boolean; seeds: Set<string> }>();
  const methodOrder: string[] = [];
  const splitOrder: string[] = [];
  const tree = new Map<string, Map<string, Map<string, Map<string, Cell>>>>(); // method -> seed -> split -> task
  const instanceIds = new Set<string>();
  let everyHasEm = true;
  records.forEach((r, i) => {
    const at = `records[${i}]`;
    if (r === null || typeof r !== 'object') throw new EvalInputError(FN, at, 'a {method, seed, taskId, split, rougeL} object', r);
    for (const field of ['method', 'taskId', 'split'] as const) {
      if (typeof r[field] !== 'string' || r[field].length === 0) throw new EvalInputError(FN, `${at}.${field}`, 'a non-empty string', r[field]);
    }
    if (typeof r.rougeL !== 'number' || !(r.rougeL >= 0 && r.rougeL <= 100)) throw new EvalInputError(FN, `${at}.rougeL`, 'a score in [0, 100]', r.rougeL);
    if (r.exactMatch === undefined) everyHasEm = false;
    else if (typeof r.exactMatch !== 'number' || !(r.exactMatch >= 0 && r.exactMatch <= 100)) {
      throw new EvalInputError(FN, `${at}.exactMatch`, 'a score in [0, 100] or absent', r.exactMatch);
    }
    const seeded = r.seed !== undefined && r.seed !== null;
    if (seeded && !((typeof r.seed === 'number' && Number.isFinite(r.seed)) || (typeof r.seed === 'string' && r.seed.length > 0))) {
      throw new EvalInputError(FN, `${at}.seed`, 'a finite number, a non-empty string, or null/absent', r.seed);
    }
    const seed = seeded ? String(r.seed) : '';
    let m = seen.get(r.method);
    if (!m) {
      m = { seeded, seeds: new Set() };
      seen.set(r.method, m);
      methodOrder.push(r.method);
    } else if (m.seeded !== seeded) {
      throw new EvalInputError(FN, `${at}.seed`, `${m.seeded ? 'a seed' : 'no seed'} like the other records of method '${r.method}'`, r.seed);
    }
    m.seeds.add(seed);
    if (!splitOrder.includes(r.split)) splitOrder.push(r.split);
    if (r.instanceId !== undefined) {
      const id = [r.method, seed, r.split, r.taskId, r.instanceId].join('\u0000');
      if (instanceIds.has(id)) throw new EvalInputError(FN, `${at}.instanceId`, 'each instance scored once per method, seed and split', r.instanceId);
      instanceIds.add(id);
    }
    const bySeed = tree.get(r.method) ?? new Map<string, Map<string, Map<string, Cell>>>();
    tree.set(r.method, bySeed);
    const bySplit = bySeed.get(seed) ?? new Map<string, Map<string, Cell>>();
    bySeed.set(seed, bySplit);
    const byTask = bySplit.get(r.split) ?? new Map<string, Cell>();
    bySplit.set(r.split, byTask);
    let cell = byTask.get(r.taskId);
    if (!cell) {
      cell = { count: 0, sums: [0, 0] };
      byTask.set(r.taskId, cell);
    }
    cell.count++;
    (cell.sums as [number, number])[0] += r.rougeL;
    (cell.sums as [number, number])[1] += r.exactMatch ?? 0;
  });
  return { seen, methodOrder, splitOrder, tree, everyHasEm };
}

/** The tables asked for (metrics, method rows, columns, comparisons), checked against what the records hold. */
interface SummaryPlan {
  readonly metrics: readonly SummaryMetric[];
  readonly specs: MethodSpec[];
  readonly columnSpecs: ColumnSpec[];
  readonly comparisons: NonNullable<SummaryOptions['comparisons']>[number][];
}

function planSummary(records: readonly ScoreRecord[], g: GroupedRecords, opts: SummaryOptions): SummaryPlan {
  const { methodOrder, splitOrder, everyHasEm } = g;
  const metrics = opts.metrics ?? (everyHasEm ? METRICS : ['rougeL']);
  if (!Array.isArray(metrics) || metrics.length === 0 || metrics.some((x) => !METRICS.includes(x))) {
    throw new EvalInputError(FN, 'opts.metrics', "a non-empty list of 'rougeL' | 'exactMatch'", metrics);
  }
  if (metrics.includes('exactMatch') && !everyHasEm) {
    const i = records.findIndex((r) => r.exactMatch === undefined);
    throw new EvalInputError(FN, `records[${i}].exactMatch`, "a score (opts.metrics asks for 'exactMatch')", undefined);
  }

  const specs: MethodSpec[] = opts.methods ? [...opts.methods] : methodOrder.map((id) => ({ id }));
  const specIds = new Set<string>();
  specs.forEach((s, i) => {
    if (typeof s?.id !== 'string' || s.id.length === 0) throw new EvalInputError(FN, `opts.methods[${i}].id`, 'a non-empty string', s?.id);
    if (specIds.has(s.id)) throw new EvalInputError(FN, `opts.methods[${i}].id`, 'a method id listed once', s.id);
    if (s.kind !== undefined && s.kind !== 'method' && s.kind !== 'reference') {
      throw new EvalInputError(FN, `opts.methods[${i}].kind`, "'method' or 'reference'", s.kind);
    }
    if (s.reason !== undefined && typeof s.reason !== 'string') throw new EvalInputError(FN, `opts.methods[${i}].reason`, 'a string', s.reason);
    // checked before any resampling work
    optionalRatio(`opts.methods[${i}].relativeFlops`, s.relativeFlops);
    optionalRatio(`opts.methods[${i}].relativeTime`, s.relativeTime);
    specIds.add(s.id);
  });
  for (const id of methodOrder) {
    if (!specIds.has(id)) throw new EvalInputError(FN, 'opts.methods', `an entry for every method in the records (missing '${id}')`, `${specIds.size} entries`);
  }

  const columnSpecs: ColumnSpec[] = opts.columns ? [...opts.columns] : splitOrder.map((s) => ({ key: s, splits: [s] }));
  const columnKeys = new Set<string>();
  columnSpecs.forEach((c, i) => {
    if (typeof c?.key !== 'string' || c.key.length === 0) throw new EvalInputError(FN, `opts.columns[${i}].key`, 'a non-empty string', c?.key);
    if (columnKeys.has(c.key)) throw new EvalInputError(FN, `opts.columns[${i}].key`, 'a key used by one column', c.key);
    columnKeys.add(c.key);
    if (!Array.isArray(c.splits) || c.splits.length === 0 || c.splits.some((s) => typeof s !== 'string')) {
      throw new EvalInputError(FN, `opts.columns[${i}].splits`, 'a non-empty list of split names', c.splits);
    }
  });
  const columnSplits = new Set(columnSpecs.flatMap((c) => c.splits));
  for (const s of splitOrder) {
    if (!columnSplits.has(s))
      throw new EvalInputError(FN, 'opts.columns', `a column for every split in the records (split '${s}' has none)`, `${columnSpecs.length} columns`);
  }

  const comparisons = (opts.comparisons ?? []).map((c, i) => {
    for (const side of ['a', 'b'] as const) {
      if (!specIds.has(c?.[side]))
        throw new EvalInputError(FN, `opts.comparisons[${i}].${side}`, `one of the method ids (${[...specIds].join(', ')})`, c?.[side]);
    }
    if (c.a === c.b) throw new EvalInputError(FN, `opts.comparisons[${i}].b`, 'a method other than a', c.b);
    return c;
  });
  return { metrics, specs, columnSpecs, comparisons };
}

/**
 * One column's cells: per method (with records in the column) seed → task sums over the column's splits, and
 * the column's tasks with their instance counts — every method and seed must have scored exactly these.
 */
function columnCells(
  col: ColumnSpec,
  specs: readonly MethodSpec[],
  tree: GroupedRecords['tree'],
): { perMethod: Map<string, Map<string, Map<string, Cell>>>; tasks: string[]; counts: Map<string, number> } {
  // per method: seed -> task -> {count, sums}
  const perMethod = new Map<string, Map<string, Map<string, Cell>>>();
  for (const s of specs) {
    const recorded = tree.get(s.id);
    if (!recorded) continue;
    const bySeed = new Map<string, Map<string, Cell>>();
    for (const [seed, bySplit] of recorded) {
      const byTask = new Map<string, Cell>();
      for (const split of col.splits) {
        for (const [task, cell] of bySplit.get(split) ?? []) {
          const acc = byTask.get(task) ?? { count: 0, sums: [0, 0] };
          acc.count += cell.count;
          acc.sums = acc.sums.map((v, k) => v + (cell.sums[k] as number));
          byTask.set(task, acc);
        }
      }
      bySeed.set(seed, byTask);
    }
    if ([...bySeed.values()].some((t) => t.size > 0)) perMethod.set(s.id, bySeed);
  }
  // the column's tasks and instance counts; every method must have scored exactly these
  const counts = new Map<string, number>();
  for (const [id, bySeed] of perMethod) {
    for (const [seed, byTask] of bySeed) {
      for (const [task, cell] of byTask) {
        const c = counts.get(task);
        if (c === undefined) counts.set(task, cell.count);
        else if (c !== cell.count) {
          throw new EvalInputError(
            FN,
            'records',
            `the same instances of task '${task}' in column '${col.key}' for every method and seed (${c} before method '${id}'${seed ? ` seed ${seed}` : ''}, which has)`,
            cell.count,
          );
        }
      }
    }
  }
  const tasks = [...counts.keys()].sort(byCodeUnit);
  for (const [id, bySeed] of perMethod) {
    for (const [seed, byTask] of bySeed) {
      const missing = tasks.filter((t) => !byTask.has(t));
      if (missing.length > 0) {
        throw new EvalInputError(
          FN,
          'records',
          `method '${id}'${seed ? ` seed ${seed}` : ''} to cover every task of column '${col.key}' or none (missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`,
          `${tasks.length - missing.length} of ${tasks.length} tasks`,
        );
      }
    }
  }
  return { perMethod, tasks, counts };
}

export function summarizeResults(records: readonly ScoreRecord[], opts: SummaryOptions = {}): ResultsSummary {
  const boot = resolveBootstrapOptions(FN, opts);
  const weighting = opts.weighting ?? 'instance';
  if (weighting !== 'instance' && weighting !== 'task') throw new EvalInputError(FN, 'opts.weighting', "'instance' or 'task'", weighting);
  const seedPairing = opts.seedPairing ?? 'independent';
  if (seedPairing !== 'independent' && seedPairing !== 'by-seed') throw new EvalInputError(FN, 'opts.seedPairing', "'independent' or 'by-seed'", seedPairing);
  if (!Array.isArray(records)) throw new EvalInputError(FN, 'records', 'an array of {method, seed, taskId, split, rougeL, exactMatch}', records);

  const grouped = groupRecords(records);
  const { seen, tree } = grouped;

  const { metrics, specs, columnSpecs, comparisons } = planSummary(records, grouped, opts);

  const seedsOf = (id: string): string[] => {
    const m = seen.get(id);
    return m && m.seeded ? [...m.seeds].sort(compareSeeds) : [];
  };
  const labelOf = (id: string): string => specs.find((s) => s.id === id)?.label ?? id;

  // --- per column: the task set, then every method's matrices and bootstrap distributions
  const rowScores = new Map<string, Record<string, Partial<Record<SummaryMetric, SummaryScore | null>>>>(specs.map((s) => [s.id, {}]));
  const diffScores = comparisons.map(() => ({}) as Record<string, Partial<Record<SummaryMetric, SummaryDifference | null>>>);
  const columns: SummaryColumn[] = [];

  for (const col of columnSpecs) {
    const { perMethod, tasks, counts } = columnCells(col, specs, tree);
    const instances = tasks.reduce((s, t) => s + (counts.get(t) as number), 0);
    columns.push({ key: col.key, label: col.label ?? col.key, splits: [...col.splits], tasks: tasks.length, instances });
    const weights = tasks.map((t) => (weighting === 'instance' ? (counts.get(t) as number) : 1));

    for (const metric of METRICS) {
      if (!metrics.includes(metric)) continue;
      const k = METRICS.indexOf(metric);
      const ids = [...perMethod.keys()];
      const matrices: ScoreMatrix[] = ids.map((id) => {
        const bySeed = perMethod.get(id) as Map<string, Map<string, Cell>>;
        const seeds = seedsOf(id);
        const order = seeds.length > 0 ? seeds : [''];
        return {
          scores: order.map((seed) =>
            tasks.map((t) => {
              const cell = (bySeed.get(seed) as Map<string, Cell>).get(t) as Cell;
              return (cell.sums[k] as number) / cell.count;
            }),
          ),
          seedStream: seedPairing === 'by-seed' ? `seeds:${order.join('\u0000')}` : `method:${id}`,
        };
      });
      const canResample = tasks.length >= 2;
      const dists = canResample
        ? bootstrapDistributions(matrices, weights, boot.resamples, seededIndexSource(boot.seed, `column:${col.key}`, tasks.length))
        : [];
      ids.forEach((id, j) => {
        const m = (matrices[j] as ScoreMatrix).scores;
        const seeds = seedsOf(id);
        const total = weights.reduce((s, w) => s + w, 0);
        const seedMeansRaw = m.map((row) => row.reduce((s, v, t) => s + v * (weights[t] as number), 0) / total);
        const base = { tasks: tasks.length, instances, seedMeans: seeds.map((seed, i) => ({ seed, mean: seedMeansRaw[i] as number })) };
        const row = rowScores.get(id) as Record<string, Partial<Record<SummaryMetric, SummaryScore | null>>>;
        const cellsOf = (row[col.key] ??= {});
        if (canResample) {
          const iv = scoreInterval(m, weights, dists[j] as Float64Array, boot);
          cellsOf[metric] = { estimate: iv.estimate, lo: iv.lo, hi: iv.hi, standardError: iv.standardError, seedSd: iv.seedSd, ...base };
        } else {
          const estimate = seedMeansRaw.reduce((s, v) => s + v, 0) / seedMeansRaw.length;
          cellsOf[metric] = { estimate, lo: null, hi: null, standardError: null, seedSd: null, ...base };
        }
      });
      comparisons.forEach((c, ci) => {
        const cellsOf = ((diffScores[ci] as Record<string, Partial<Record<SummaryMetric, SummaryDifference | null>>>)[col.key] ??= {});
        const ja = ids.indexOf(c.a);
        const jb = ids.indexOf(c.b);
        if (ja < 0 || jb < 0) {
          cellsOf[metric] = null;
          return;
        }
        const ma = (matrices[ja] as ScoreMatrix).scores;
        const mb = (matrices[jb] as ScoreMatrix).scores;
        if (canResample) {
          const d = differenceInterval(ma, mb, weights, dists[ja] as Float64Array, dists[jb] as Float64Array, boot);
          cellsOf[metric] = { estimate: d.estimate, lo: d.lo, hi: d.hi, standardError: d.standardError, pValue: d.pValue, tasks: d.tasks };
        } else {
          const est = (x: readonly (readonly number[])[]) => x.reduce((s, row) => s + (row[0] as number), 0) / x.length;
          cellsOf[metric] = { estimate: est(ma) - est(mb), lo: null, hi: null, standardError: null, pValue: null, tasks: tasks.length };
        }
      });
    }
    // methods without records in this column: explicit nulls
    for (const s of specs) {
      const row = rowScores.get(s.id) as Record<string, Partial<Record<SummaryMetric, SummaryScore | null>>>;
      row[col.key] ??= Object.fromEntries(metrics.map((m) => [m, null]));
    }
  }

  const rows: SummaryRow[] = specs.map((s, i) => ({
    method: s.id,
    label: s.label ?? s.id,
    kind: s.kind ?? 'method',
    seeds: seedsOf(s.id),
    relativeFlops: optionalRatio(`opts.methods[${i}].relativeFlops`, s.relativeFlops),
    relativeTime: optionalRatio(`opts.methods[${i}].relativeTime`, s.relativeTime),
    reason: s.reason ?? null,
    scores: rowScores.get(s.id) as SummaryRow['scores'],
  }));
  const differences: SummaryComparison[] = comparisons.map((c, i) => ({
    a: c.a,
    b: c.b,
    label: c.label ?? `${labelOf(c.a)} − ${labelOf(c.b)}`,
    scores: diffScores[i] as SummaryComparison['scores'],
  }));
  const notes = opts.notes ?? [];
  if (!Array.isArray(notes) || notes.some((n) => typeof n !== 'string')) throw new EvalInputError(FN, 'opts.notes', 'a list of strings', notes);
  return {
    title: opts.title ?? null,
    config: { resamples: boot.resamples, seed: boot.seed, level: boot.level, interval: boot.interval, weighting, seedPairing, metrics: [...metrics] },
    columns,
    rows,
    differences,
    notes: [...notes],
  };
}

// ---------------------------------------------------------------------------------------------
// results.md

export interface SummaryMarkdownOptions {
  /** decimals for scores and intervals; default 1 (a 95% CI over tens of tasks is several points wide) */
  readonly digits?: number;
  /** 'interval' prints `25.1 [21.3, 28.9]` (default; percentile CIs are not symmetric), 'half-width' prints `25.1 ± 3.8` */
  readonly ci?: 'interval' | 'half-width';
  /** bold the best estimate per column among 'method' rows; default true */
  readonly boldBest?: boolean;
  /** metrics to print; default the summary's */
  readonly metrics?: readonly SummaryMetric[];
}

function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function formatP(p: number, resamples: number): string {
  if (p === 0) {
    // the resolution 1/B, rounded UP to two significant digits so the bound stays true (1/3000 -> 0.00034)
    const v = 1 / resamples;
    const step = 10 ** (Math.floor(Math.log10(v)) - 1);
    return `p < ${Number((Math.ceil(v / step - 1e-9) * step).toPrecision(2))}`;
  }
  return `p = ${p < 0.001 ? p.toPrecision(1) : p.toFixed(3)}`;
}

/** The markdown tables of a summary: scores per metric, paired differences, per-seed means, notes. */
export function renderSummaryMarkdown(summary: ResultsSummary, opts: SummaryMarkdownOptions = {}): string {
  const fn = 'renderSummaryMarkdown';
  if (summary === null || typeof summary !== 'object' || !Array.isArray(summary.rows) || !Array.isArray(summary.columns)) {
    throw new EvalInputError(fn, 'summary', 'a ResultsSummary (from summarizeResults or summaryFromJson)', summary);
  }
  const digits = opts.digits ?? 1;
  if (!Number.isInteger(digits) || digits < 0 || digits > 10) throw new EvalInputError(fn, 'opts.digits', 'an integer in [0, 10]', digits);
  const ciStyle = opts.ci ?? 'interval';
  if (ciStyle !== 'interval' && ciStyle !== 'half-width') throw new EvalInputError(fn, 'opts.ci', "'interval' or 'half-width'", ciStyle);
  const boldBest = opts.boldBest ?? true;
  const metrics = opts.metrics ?? summary.config.metrics;
  for (const m of metrics) {
    if (!summary.config.metrics.includes(m)) throw new EvalInputError(fn, 'opts.metrics', `metrics of the summary (${summary.config.metrics.join(', ')})`, m);
  }
  const { level, resamples } = summary.config;
  const pct = `${Math.round(level * 1000) / 10}%`;
  const num = (v: number): string => v.toFixed(digits);
  const signed = (v: number): string => (v > 0 || Object.is(v, 0) ? '+' : '') + num(v);
  const withCi = (est: string, lo: number | null, hi: number | null, show: (v: number) => string): string => {
    if (lo === null || hi === null) return `${est} (no CI: < 2 tasks)`;
    return ciStyle === 'interval' ? `${est} [${show(lo)}, ${show(hi)}]` : `${est} ± ${num((hi - lo) / 2)}`;
  };
  const header = summary.columns.map((c) => `${c.label} (${c.tasks} task${c.tasks === 1 ? '' : 's'})`);
  const methodRows = summary.rows.filter((r) => r.kind === 'method');
  const orderedRows = [...methodRows, ...summary.rows.filter((r) => r.kind === 'reference')];
  const showFlops = summary.rows.some((r) => r.relativeFlops !== null);
  const showTime = summary.rows.some((r) => r.relativeTime !== null);
  const ratio = (v: number | null): string => (v === null ? '–' : `×${v.toFixed(2)}`);
  const rowLabel = (r: SummaryRow): string => (r.kind === 'reference' ? `_${escapeCell(r.label)}_ (reference)` : escapeCell(r.label));

  const lines: string[] = [];
  if (summary.title) lines.push(`### ${escapeCell(summary.title)}`, '');
  for (const metric of metrics) {
    const best = new Map<string, number>();
    for (const c of summary.columns) {
      const values = methodRows.map((r) => r.scores[c.key]?.[metric]?.estimate).filter((v): v is number => typeof v === 'number');
      if (values.length > 1) best.set(c.key, Math.max(...values.map((v) => Number(num(v)))));
    }
    lines.push(`**${METRIC_LABEL[metric]}**: mean, ${pct} CI [lo, hi] from a task-level bootstrap`, '');
    const head = ['Method', 'Seeds', ...header];
    const align = [':---', '---:', ...header.map(() => '---:')];
    if (showFlops) {
      head.push('Rel. FLOPs');
      align.push('---:');
    }
    if (showTime) {
      head.push('Rel. time');
      align.push('---:');
    }
    lines.push(`| ${head.map(escapeCell).join(' | ')} |`, `| ${align.join(' | ')} |`);
    for (const r of orderedRows) {
      const cells = [rowLabel(r), r.seeds.length === 0 ? '–' : String(r.seeds.length)];
      for (const c of summary.columns) {
        const s = r.scores[c.key]?.[metric];
        if (!s) {
          cells.push(r.reason ? 'unavailable' : '–');
          continue;
        }
        const est = num(s.estimate);
        const shown = boldBest && r.kind === 'method' && Number(est) === best.get(c.key) ? `**${est}**` : est;
        cells.push(withCi(shown, s.lo, s.hi, num));
      }
      if (showFlops) cells.push(ratio(r.relativeFlops));
      if (showTime) cells.push(ratio(r.relativeTime));
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  }

  if (summary.differences.length > 0) {
    for (const metric of metrics) {
      lines.push(`**Paired differences, ${METRIC_LABEL[metric]}**: A − B on the same resampled tasks, ${pct} CI; p = share of resamples with A − B ≤ 0`, '');
      lines.push(`| Comparison | ${header.map(escapeCell).join(' | ')} |`, `| :--- | ${header.map(() => '---:').join(' | ')} |`);
      for (const d of summary.differences) {
        const cells = [escapeCell(d.label)];
        for (const c of summary.columns) {
          const s = d.scores[c.key]?.[metric];
          if (!s) cells.push('–');
          else cells.push(`${withCi(signed(s.estimate), s.lo, s.hi, num)}${s.pValue === null ? '' : `, ${formatP(s.pValue, resamples)}`}`);
        }
        lines.push(`| ${cells.join(' | ')} |`);
      }
      lines.push('');
    }
  }

  const seeded = summary.rows.filter((r) => r.seeds.length > 1);
  if (seeded.length > 0) {
    const metric = metrics[0] as SummaryMetric;
    lines.push(`**Per-seed means, ${METRIC_LABEL[metric]}** (seed by seed; sd = sample standard deviation over seeds)`, '');
    lines.push(`| Method | Seeds | ${header.map(escapeCell).join(' | ')} |`, `| :--- | :--- | ${header.map(() => '---:').join(' | ')} |`);
    for (const r of seeded) {
      const cells = [rowLabel(r), r.seeds.join(', ')];
      for (const c of summary.columns) {
        const s = r.scores[c.key]?.[metric];
        cells.push(
          s ? `${s.seedMeans.map((x: { readonly mean: number }) => num(x.mean)).join(' / ')}${s.seedSd === null ? '' : ` (sd ${num(s.seedSd)})`}` : '–',
        );
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
  }

  lines.push(...methodNotes(summary));
  for (const r of summary.rows) if (r.reason) lines.push(`- ${escapeCell(r.label)}: ${r.reason}`);
  for (const n of summary.notes) lines.push(n.startsWith('- ') ? n : `- ${n}`);
  return `${lines.join('\n')}\n`;
}

/** How the numbers were computed, as note lines (printed under the tables). */
function methodNotes(summary: ResultsSummary): string[] {
  const c = summary.config;
  const pct = `${Math.round(c.level * 1000) / 10}%`;
  const notes = [
    c.weighting === 'instance'
      ? "- Scores: mean over a column's instances (SNI's convention; tasks weigh by their instance count), ×100; with several seeds, the mean over seeds."
      : '- Scores: mean of per-task means (every task weighs the same), ×100; with several seeds, the mean over seeds.',
    `- CIs: ${pct} ${c.interval === 'bca' ? 'BCa' : 'percentile'} intervals from ${c.resamples.toLocaleString('en-US')} bootstrap resamples of tasks (seed ${c.seed}); ` +
      "a task's instances stay together. Methods with several seeds also resample seeds, independently of tasks (crossed bootstrap).",
  ];
  if (summary.differences.length > 0) {
    notes.push(
      `- Differences pair methods by task (the same resampled tasks for both); seeds of two seeded methods are ${c.seedPairing === 'by-seed' ? 'paired by seed label' : 'resampled independently'}.`,
    );
  }
  return notes;
}

// ---------------------------------------------------------------------------------------------
// results.json (format 'tagi-results', version 2) and the version-1 table

/** The score table of one metric as a version-1 `ResultsTable` (point estimates only), for existing callers. */
export function summaryToTable(summary: ResultsSummary, metric: SummaryMetric = 'rougeL'): ResultsTable {
  if (!summary?.config?.metrics?.includes(metric)) {
    throw new EvalInputError('summaryToTable', 'metric', `a metric of the summary (${summary?.config?.metrics?.join(', ')})`, metric);
  }
  return {
    ...(summary.title ? { title: summary.title } : {}),
    columns: summary.columns.map((c) => ({ key: c.key, label: c.label })),
    rows: summary.rows.map((r) => ({
      method: r.kind === 'reference' ? `${r.label} (reference)` : r.label,
      scores: Object.fromEntries(summary.columns.map((c) => [c.key, r.scores[c.key]?.[metric]?.estimate ?? null])),
      relativeFlops: r.relativeFlops,
      relativeTime: r.relativeTime,
    })),
    notes: [...summary.notes],
  };
}

function scoreToJson(s: SummaryScore | null | undefined): unknown {
  if (!s) return null;
  return {
    estimate: s.estimate,
    lo: s.lo,
    hi: s.hi,
    half_width: s.lo === null || s.hi === null ? null : (s.hi - s.lo) / 2,
    standard_error: s.standardError,
    tasks: s.tasks,
    instances: s.instances,
    seed_means: s.seedMeans.map((x) => ({ seed: x.seed, mean: x.mean })),
    seed_sd: s.seedSd,
  };
}

function differenceToJson(d: SummaryDifference | null | undefined): unknown {
  if (!d) return null;
  return { estimate: d.estimate, lo: d.lo, hi: d.hi, standard_error: d.standardError, p_value: d.pValue, tasks: d.tasks };
}

function metricsToJson<T>(
  cells: Readonly<Partial<Record<SummaryMetric, T | null>>> | undefined,
  metrics: readonly SummaryMetric[],
  f: (x: T | null | undefined) => unknown,
) {
  return Object.fromEntries(metrics.map((m) => [METRIC_JSON[m], f(cells?.[m])]));
}

/** results.json object of a summary: snake_case, format 'tagi-results', version 2. */
export function summaryToJson(summary: ResultsSummary, meta: Record<string, unknown> = {}): Record<string, unknown> {
  const c = summary.config;
  return {
    format: 'tagi-results',
    version: 2,
    title: summary.title,
    config: {
      resamples: c.resamples,
      seed: c.seed,
      level: c.level,
      interval: c.interval,
      weighting: c.weighting,
      seed_pairing: c.seedPairing,
      metrics: c.metrics.map((m) => METRIC_JSON[m]),
    },
    columns: summary.columns.map((col) => ({ key: col.key, label: col.label, splits: [...col.splits], tasks: col.tasks, instances: col.instances })),
    rows: summary.rows.map((r) => ({
      method: r.method,
      label: r.label,
      kind: r.kind,
      seeds: [...r.seeds],
      relative_flops: r.relativeFlops,
      relative_time: r.relativeTime,
      reason: r.reason,
      scores: Object.fromEntries(summary.columns.map((col) => [col.key, metricsToJson(r.scores[col.key], c.metrics, scoreToJson)])),
    })),
    differences: summary.differences.map((d) => ({
      a: d.a,
      b: d.b,
      label: d.label,
      scores: Object.fromEntries(summary.columns.map((col) => [col.key, metricsToJson(d.scores[col.key], c.metrics, differenceToJson)])),
    })),
    notes: [...summary.notes],
    meta,
  };
}

/** results.json text of a summary (sorted keys, 2-space indent, newline-terminated). */
export function stringifySummary(summary: ResultsSummary, meta: Record<string, unknown> = {}): string {
  return stableStringify(summaryToJson(summary, meta));
}

// reading: every field checked, errors name the JSON path
type Json = Record<string, unknown>;
const R = 'summaryFromJson';
function obj(v: unknown, at: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new EvalInputError(R, at, 'an object', v);
  return v as Json;
}
function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new EvalInputError(R, at, 'an array', v);
  return v;
}
function str(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new EvalInputError(R, at, 'a string', v);
  return v;
}
function numOrNull(v: unknown, at: string): number | null {
  if (v === null) return null;
  return numReq(v, at);
}
function numReq(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EvalInputError(R, at, 'a finite number', v);
  return v;
}
function metricFromJson(v: unknown, at: string): SummaryMetric {
  const m = METRICS.find((x) => METRIC_JSON[x] === v);
  if (!m) throw new EvalInputError(R, at, "'rouge_l' or 'exact_match'", v);
  return m;
}

/** Parses a version-2 results.json back into a summary (and its meta). */
export function summaryFromJson(json: unknown): { summary: ResultsSummary; meta: Record<string, unknown> } {
  const o = obj(json, 'json');
  if (o.format !== 'tagi-results') throw new EvalInputError(R, 'format', "'tagi-results'", o.format);
  if (o.version !== 2) throw new EvalInputError(R, 'version', '2 (version 1 is a plain table: read it with resultsFromJson)', o.version);
  const c = obj(o.config, 'config');
  const metrics = arr(c.metrics, 'config.metrics').map((m, i) => metricFromJson(m, `config.metrics[${i}]`));
  const interval = c.interval;
  if (interval !== 'percentile' && interval !== 'bca') throw new EvalInputError(R, 'config.interval', "'percentile' or 'bca'", interval);
  const weighting = c.weighting;
  if (weighting !== 'instance' && weighting !== 'task') throw new EvalInputError(R, 'config.weighting', "'instance' or 'task'", weighting);
  const seedPairing = c.seed_pairing;
  if (seedPairing !== 'independent' && seedPairing !== 'by-seed') throw new EvalInputError(R, 'config.seed_pairing', "'independent' or 'by-seed'", seedPairing);
  const columns: SummaryColumn[] = arr(o.columns, 'columns').map((v, i) => {
    const col = obj(v, `columns[${i}]`);
    return {
      key: str(col.key, `columns[${i}].key`),
      label: str(col.label, `columns[${i}].label`),
      splits: arr(col.splits, `columns[${i}].splits`).map((s, j) => str(s, `columns[${i}].splits[${j}]`)),
      tasks: numReq(col.tasks, `columns[${i}].tasks`),
      instances: numReq(col.instances, `columns[${i}].instances`),
    };
  });
  const cellsFrom = <T>(v: unknown, at: string, f: (x: Json, at: string) => T): Record<string, Partial<Record<SummaryMetric, T | null>>> => {
    const scores = obj(v, at);
    return Object.fromEntries(
      columns.map((col) => {
        const byMetric = obj(scores[col.key], `${at}.${col.key}`);
        return [
          col.key,
          Object.fromEntries(
            metrics.map((m) => {
              const cell = byMetric[METRIC_JSON[m]];
              const where = `${at}.${col.key}.${METRIC_JSON[m]}`;
              return [m, cell === null || cell === undefined ? null : f(obj(cell, where), where)];
            }),
          ),
        ];
      }),
    );
  };
  const rows: SummaryRow[] = arr(o.rows, 'rows').map((v, i) => {
    const r = obj(v, `rows[${i}]`);
    const at = `rows[${i}]`;
    if (r.kind !== 'method' && r.kind !== 'reference') throw new EvalInputError(R, `${at}.kind`, "'method' or 'reference'", r.kind);
    return {
      method: str(r.method, `${at}.method`),
      label: str(r.label, `${at}.label`),
      kind: r.kind,
      seeds: arr(r.seeds, `${at}.seeds`).map((s, j) => str(s, `${at}.seeds[${j}]`)),
      relativeFlops: numOrNull(r.relative_flops ?? null, `${at}.relative_flops`),
      relativeTime: numOrNull(r.relative_time ?? null, `${at}.relative_time`),
      reason: r.reason === null || r.reason === undefined ? null : str(r.reason, `${at}.reason`),
      scores: cellsFrom(r.scores, `${at}.scores`, (x, w) => ({
        estimate: numReq(x.estimate, `${w}.estimate`),
        lo: numOrNull(x.lo, `${w}.lo`),
        hi: numOrNull(x.hi, `${w}.hi`),
        standardError: numOrNull(x.standard_error, `${w}.standard_error`),
        tasks: numReq(x.tasks, `${w}.tasks`),
        instances: numReq(x.instances, `${w}.instances`),
        seedMeans: arr(x.seed_means, `${w}.seed_means`).map((sm, j) => {
          const e = obj(sm, `${w}.seed_means[${j}]`);
          return { seed: str(e.seed, `${w}.seed_means[${j}].seed`), mean: numReq(e.mean, `${w}.seed_means[${j}].mean`) };
        }),
        seedSd: numOrNull(x.seed_sd, `${w}.seed_sd`),
      })),
    };
  });
  const differences: SummaryComparison[] = arr(o.differences, 'differences').map((v, i) => {
    const d = obj(v, `differences[${i}]`);
    const at = `differences[${i}]`;
    return {
      a: str(d.a, `${at}.a`),
      b: str(d.b, `${at}.b`),
      label: str(d.label, `${at}.label`),
      scores: cellsFrom(d.scores, `${at}.scores`, (x, w) => ({
        estimate: numReq(x.estimate, `${w}.estimate`),
        lo: numOrNull(x.lo, `${w}.lo`),
        hi: numOrNull(x.hi, `${w}.hi`),
        standardError: numOrNull(x.standard_error, `${w}.standard_error`),
        pValue: numOrNull(x.p_value, `${w}.p_value`),
        tasks: numReq(x.tasks, `${w}.tasks`),
      })),
    };
  });
  const summary: ResultsSummary = {
    title: o.title === null || o.title === undefined ? null : str(o.title, 'title'),
    config: {
      resamples: numReq(c.resamples, 'config.resamples'),
      seed: numReq(c.seed, 'config.seed'),
      level: numReq(c.level, 'config.level'),
      interval,
      weighting,
      seedPairing,
      metrics,
    },
    columns,
    rows,
    differences,
    notes: arr(o.notes ?? [], 'notes').map((n, i) => str(n, `notes[${i}]`)),
  };
  const meta = o.meta !== null && typeof o.meta === 'object' && !Array.isArray(o.meta) ? (o.meta as Record<string, unknown>) : {};
  return { summary, meta };
}
