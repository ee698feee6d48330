// The results of a run: per-instance scores summarised by @tagi/eval's `summarizeResults` (mean and
// task-level bootstrap 95% CI per method and evaluation setting, seeds resampled too, paired differences),
// written as results.json (format 'tagi-results', version 2, with the run's facts under `meta`) and
// results.md (the tables, then the cost and stage-time tables). Rows of methods that did not run say why;
// nothing is filled in.
import path from 'node:path';
import { type ComparisonSpec, type MethodSpec, type ResultsSummary, type ScoreRecord, renderSummaryMarkdown, summarizeResults } from '@tagi/eval';
import { RUN_FILES } from '@tagi/run-dir';
import { readResultsJson, writeResultsJson } from '@tagi/run-dir/node';
import { writeFileAtomic } from '@tagi/tensor-core/node';
import { type EvalSet, SPLIT_LABELS } from '../data/tasks.js';
import { readMetrics } from '../run/metrics.js';
import { trainingCurvesSvg } from './plot.js';

/** Row labels of the methods a run can train. */
export const METHOD_LABELS: Readonly<Record<string, string>> = {
  'no-adapter': 'No adapter',
  multitask: 'Instruction-concatenated multitask',
  hint: 'Hypernet w/o distillation (HINT-like)',
  tagi: 'TAGI',
  'tagi-no-pretrain': 'TAGI w/o hypernet pretraining',
  'tagi-no-kl': 'TAGI w/o L_kl',
  'tagi-no-ins': 'TAGI w/o L_ins',
  'tagi-no-fusion': 'TAGI w/o fusion',
  'tagi-wrong-instruction': "TAGI, another task's instruction (control)",
  'tagi-empty-instruction': 'TAGI, empty instruction (control)',
};

/** Suffix of the method ids of the Def+2Pos setting in `tagi experiment paper` ('tagi-2pos', 'multitask-2pos', …). */
export const DEF_2POS = '-2pos';

/** A method row's label: METHOD_LABELS, with ", Def+2Pos" for the Def+2Pos setting's ids of `tagi experiment paper`. */
export function methodLabel(id: string): string {
  if (id.endsWith(DEF_2POS)) return `${methodLabel(id.slice(0, -DEF_2POS.length))}, Def+2Pos`;
  return METHOD_LABELS[id] ?? id;
}

/** What a run records besides the scores (results.json `meta`). */
export interface RunFacts {
  command: string;
  preset: string;
  backend: string;
  data: string;
  /** Seed of the base, teachers and multitask model. */
  seed: number;
  /** Seeds of the hypernetwork stages. */
  hypernetSeeds: number[];
  wallClockSeconds: number;
  /** The run's finished stages in order, with the seconds each took. */
  stages: { id: string; seconds?: number }[];
  /** /proc/loadavg (1, 5, 15 minutes) when the run started and when it ended (other processes share the cores). */
  loadAverage: { start: number[] | null; end: number[] | null };
  /** Peak resident memory of the process that finished the run (a resumed run counts only its last process). */
  peakRssMB?: number;
  /**
   * ROUGE-L by task family (category) per evaluation setting and method: mean over the setting's
   * instances of that family, seeds pooled (descriptive, no CI: it shows which families a method solves).
   */
  byFamily?: FamilyBreakdown;
  /** Held-out inference cost per method: ms and FLOPs per instance, and both relative to the instruction-concatenated model. */
  cost: Record<string, { msPerInstance: number; flopsPerInstance: number; relativeTime: number | null; relativeFlops: number | null }>;
}

/** setting → family → method → mean ROUGE-L (×100) and the family's instance count. */
export type FamilyBreakdown = Record<string, Record<string, { instances: number; rougeL: Record<string, number> }>>;

/** Mean ROUGE-L per (setting, family, method) over the records (seeds pooled); `familyOf` maps a task id to its family. */
export function familyBreakdown(records: readonly ScoreRecord[], familyOf: (taskId: string) => string | undefined): FamilyBreakdown {
  const sums = new Map<string, { sum: number; n: number }>();
  const counts = new Map<string, Set<string>>();
  for (const r of records) {
    const fam = familyOf(r.taskId) ?? '(unknown)';
    const k = JSON.stringify([r.split, fam, r.method]);
    const e = sums.get(k) ?? { sum: 0, n: 0 };
    sums.set(k, { sum: e.sum + r.rougeL, n: e.n + 1 });
    const ck = JSON.stringify([r.split, fam]);
    counts.set(ck, (counts.get(ck) ?? new Set()).add(`${r.taskId}\u0000${r.instanceId ?? ''}`));
  }
  const out: FamilyBreakdown = {};
  for (const [k, { sum, n }] of sums) {
    const [split, fam, method] = JSON.parse(k) as [string, string, string];
    const bySplit = (out[split] ??= {});
    const cell = (bySplit[fam] ??= { instances: counts.get(JSON.stringify([split, fam]))?.size ?? 0, rougeL: {} });
    cell.rougeL[method] = sum / n;
  }
  return out;
}

export interface RunResults {
  summary: ResultsSummary;
  facts: RunFacts;
}

/** Relative cost against the instruction-concatenated multitask model (the paper's ×1.00; the base reading the prompt when there is none). */
/** Inference cost of a method on the held-out settings: measured wall time and a FLOPs estimate per instance. */
export interface MethodCost {
  msPerInstance: number;
  flopsPerInstance: number;
  instances: number;
}

/** One scored prediction (a line of the run's predictions.jsonl): what a reader needs to see why a score is what it is. */
export interface PredictionRecord {
  readonly method: string;
  readonly seed: number | null;
  readonly split: string;
  readonly taskId: string;
  readonly instanceId: string;
  readonly prediction: string;
  readonly references: readonly string[];
  readonly rougeL: number;
  readonly exactMatch: number;
}

export function relativeCosts(costs: ReadonlyMap<string, MethodCost>): RunFacts['cost'] {
  const out: RunFacts['cost'] = {};
  for (const [m, c] of costs) {
    // each prompt setting against its own concatenated model (the Def+2Pos rows against the Def+2Pos one)
    const suffix = m.endsWith(DEF_2POS) ? DEF_2POS : '';
    const ref = costs.get(`multitask${suffix}`) ?? costs.get(`no-adapter${suffix}`);
    out[m] = {
      msPerInstance: c.msPerInstance,
      flopsPerInstance: c.flopsPerInstance,
      relativeTime: ref && ref.msPerInstance > 0 ? c.msPerInstance / ref.msPerInstance : null,
      relativeFlops: ref && ref.flopsPerInstance > 0 ? c.flopsPerInstance / ref.flopsPerInstance : null,
    };
  }
  return out;
}

/**
 * The summary of a run's records: rows = the trained methods in `methods` order (absent ones with the
 * reason), then the references; columns = the evaluation settings; `comparisons` as paired differences.
 */
export function summarize(
  records: readonly ScoreRecord[],
  o: {
    methods: readonly { id: string; reason?: string }[];
    references: readonly { id: string; label: string }[];
    evalSets: readonly EvalSet[];
    comparisons: readonly ComparisonSpec[];
    cost: RunFacts['cost'];
    title: string;
    notes?: string[];
  },
): ResultsSummary {
  const present = new Set(records.map((r) => r.method));
  const methods: MethodSpec[] = [
    ...o.methods.map((m) => ({
      id: m.id,
      label: methodLabel(m.id),
      relativeFlops: o.cost[m.id]?.relativeFlops ?? null,
      relativeTime: o.cost[m.id]?.relativeTime ?? null,
      ...(!present.has(m.id) ? { reason: m.reason ?? 'not trained in this run' } : {}),
    })),
    ...o.references.map((r) => ({ id: r.id, label: r.label, kind: 'reference' as const })),
  ];
  return summarizeResults(records, {
    title: o.title,
    methods,
    columns: o.evalSets.map((s) => ({ key: s.split, label: SPLIT_LABELS[s.split], splits: [s.split] })),
    comparisons: o.comparisons
      .filter((c) => present.has(c.a) && present.has(c.b))
      .map((c) => ({ ...c, label: c.label ?? `${methodLabel(c.a)} − ${methodLabel(c.b)}` })),
    ...(o.notes ? { notes: o.notes } : {}),
  });
}

function f(x: number | null | undefined, digits = 1): string {
  return x === undefined || x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

/** results.md: the run's facts, the summary's tables (scores with CIs, differences, per-seed means), cost and stage times. */
export function resultsMarkdown(r: RunResults): string {
  const fa = r.facts;
  const load = (l: number[] | null) => (l === null ? 'unknown' : l.map((x) => x.toFixed(2)).join(' / '));
  const lines = [
    `Run: \`tagi ${fa.command}\`, preset ${fa.preset}, backend ${fa.backend}, data ${fa.data}; base, teachers and multitask seed ${fa.seed}; hypernetwork seeds ${fa.hypernetSeeds.join(', ')}.`,
    `Wall time ${f(fa.wallClockSeconds / 60)} min; load average (1/5/15 min) ${load(fa.loadAverage.start)} at the start, ${load(fa.loadAverage.end)} at the end${fa.peakRssMB === undefined ? '' : `; peak RSS ${fa.peakRssMB} MB`}.`,
    '',
    renderSummaryMarkdown(r.summary).trimEnd(),
    '',
    ...familyMarkdown(fa.byFamily),
    "**Inference cost on the held-out tasks** (per instance, relative to the instruction-concatenated multitask model; hypernet rows include generating each task's adapter once)",
    '',
    '| Method | ms / instance | Rel. time | GFLOPs / instance (est.) | Rel. FLOPs |',
    '| :--- | ---: | ---: | ---: | ---: |',
    ...Object.entries(fa.cost).map(
      ([m, c]) => `| ${methodLabel(m)} | ${f(c.msPerInstance, 2)} | ×${f(c.relativeTime, 2)} | ${f(c.flopsPerInstance / 1e9, 4)} | ×${f(c.relativeFlops, 2)} |`,
    ),
    '',
    '**Stages** (wall time)',
    '',
    '| Stage | Seconds |',
    '| :--- | ---: |',
    ...fa.stages.map((s) => `| ${s.id} | ${f(s.seconds)} |`),
    `| total (wall clock, incl. data and tokenizer) | ${f(fa.wallClockSeconds)} |`,
    '',
  ];
  return lines.join('\n');
}

/** One table per setting: ROUGE-L by family (rows) and method (columns), seeds pooled. */
function familyMarkdown(b: FamilyBreakdown | undefined): string[] {
  if (b === undefined) return [];
  const lines: string[] = [];
  for (const [split, fams] of Object.entries(b)) {
    const methods = [...new Set(Object.values(fams).flatMap((c) => Object.keys(c.rougeL)))];
    lines.push(
      `**ROUGE-L by family, ${SPLIT_LABELS[split as keyof typeof SPLIT_LABELS] ?? split}** (mean over the family's instances, seeds pooled; no CI)`,
      '',
      `| Family | Instances | ${methods.map((m) => methodLabel(m)).join(' | ')} |`,
      `| :--- | ---: | ${methods.map(() => '---:').join(' | ')} |`,
      ...Object.entries(fams)
        .sort(([a], [c]) => (a < c ? -1 : 1))
        .map(([fam, c]) => `| ${fam} | ${c.instances} | ${methods.map((m) => f(c.rougeL[m])).join(' | ')} |`),
      '',
    );
  }
  return lines;
}

/** Writes results.json (version 2: the summary, `meta` = the run's facts), results.md and the curves. */
export async function writeResults(runDir: string, r: RunResults): Promise<void> {
  await writeResultsJson(runDir, r.summary, { ...r.facts });
  await writeFileAtomic(path.join(runDir, RUN_FILES.resultsMarkdown), resultsMarkdown(r));
  await writeCurves(runDir);
}

/** Every scored prediction, one JSON object a line (method, seed, split, task, instance, prediction, references, scores). */
export async function writePredictions(runDir: string, predictions: readonly PredictionRecord[]): Promise<void> {
  await writeFileAtomic(path.join(runDir, RUN_FILES.predictions), predictions.map((p) => `${JSON.stringify(p)}\n`).join(''));
}

export async function writeCurves(runDir: string): Promise<void> {
  const events = readMetrics(path.join(runDir, RUN_FILES.metrics));
  await writeFileAtomic(path.join(runDir, RUN_FILES.curves), trainingCurvesSvg(events, `TAGI training curves — ${path.basename(runDir)}`));
}

/** A run dir's results (undefined when it has none). */
export function readResults(runDir: string): RunResults | undefined {
  const read = readResultsJson(runDir);
  if (read === undefined) return undefined;
  return { summary: read.summary, facts: read.meta as unknown as RunFacts };
}
