// The end of an evaluation, shared by `tagi eval`/`tagi demo` (commands.ts) and `tagi eval --queue` (queue/eval.ts):
// what a report compares, and scored records -> summary, trainer_state.json, results.json/results.md. Its own module so
// the queue imports it without importing the command table (no file cycle).
import os from 'node:os';
import type { ComparisonSpec } from '@tagi/eval';
import type { TagiConfig } from '../config/config.js';
import type { TaskData } from '../data/tasks.js';
import { formatDuration } from '../run/progress.js';
import { DEF_2POS, type RunResults, familyBreakdown, relativeCosts, resultsMarkdown, summarize, writePredictions, writeResults } from '../results/results.js';
import type { Run } from '../run/run.js';
import { commandLine } from '../run/run-files.js';
import { EMPTY_INSTRUCTION, type Evaluation, WRONG_INSTRUCTION } from './evaluate.js';
import { hypernetSeeds } from './hypernet.js';

/** The 1, 5 and 15-minute load averages (null on Windows, where Node reports zeros). */
export function loadAverage(): number[] | null {
  return os.platform() === 'win32' ? null : os.loadavg();
}

/** What a report compares: the trained method rows in order, and the paired differences. */
export interface ReportPlan {
  methods: { id: string; reason?: string }[];
  comparisons: ComparisonSpec[];
  title: string;
}

/** The control rows (config eval.controls) and TAGI's paired differences to them. */
function controlsOf(c: TagiConfig): Pick<ReportPlan, 'methods' | 'comparisons'> {
  if (!c.eval.controls) return { methods: [], comparisons: [] };
  return {
    methods: [{ id: WRONG_INSTRUCTION }, { id: EMPTY_INSTRUCTION }],
    comparisons: [
      { a: 'tagi', b: WRONG_INSTRUCTION },
      { a: 'tagi', b: EMPTY_INSTRUCTION },
    ],
  };
}

/** The report of `tagi demo`: the paper's Table 2 rows, the controls, TAGI's paired differences to each. */
export function demoPlan(c: TagiConfig): ReportPlan {
  const controls = controlsOf(c);
  return {
    methods: [{ id: 'no-adapter' }, { id: 'multitask' }, { id: 'hint' }, { id: 'tagi' }, ...controls.methods],
    comparisons: [{ a: 'tagi', b: 'no-adapter' }, { a: 'tagi', b: 'hint' }, { a: 'tagi', b: 'multitask' }, ...controls.comparisons],
    title: 'TAGI on the evaluation settings (ROUGE-L / exact match ×100)',
  };
}

/**
 * The report of `tagi experiment paper`: the paper's Table 2 on both prompt settings (Def, Def+2Pos: no
 * adapter, multitask, HINT-like, TAGI and its controls) and Table 4 on Def (TAGI's ablations), with the
 * paired differences each table reads.
 */
export function paperPlan(c: TagiConfig): ReportPlan {
  const controls = controlsOf(c);
  const two = (id: string) => `${id}${DEF_2POS}`;
  const ablations = ['tagi-no-pretrain', 'tagi-no-kl', 'tagi-no-ins', 'tagi-no-fusion'];
  return {
    methods: [
      ...['no-adapter', 'multitask', 'hint', 'tagi', ...controls.methods.map((m) => m.id), ...ablations].map((id) => ({ id })),
      ...['no-adapter', 'multitask', 'hint', 'tagi', ...controls.methods.map((m) => m.id)].map((id) => ({ id: two(id) })),
    ],
    comparisons: [
      { a: 'tagi', b: 'hint' },
      { a: 'tagi', b: 'multitask' },
      { a: 'tagi', b: 'no-adapter' },
      ...controls.comparisons,
      ...ablations.map((a) => ({ a, b: 'tagi' })),
      { a: two('tagi'), b: two('hint') },
      { a: two('tagi'), b: two('multitask') },
      { a: two('tagi'), b: two('no-adapter') },
      ...controls.comparisons.map((x) => ({ a: two(x.a), b: two(x.b) })),
      { a: two('tagi'), b: 'tagi' },
    ],
    title: "TAGI, the paper's Tables 2 (Def and Def+2Pos) and 4 (ablations, Def) (ROUGE-L / exact match ×100)",
  };
}

/** The report of `tagi eval`: the base, then the rows of --adapter and --hypernet (and its controls) when given. */
export function evalPlan(c: TagiConfig): ReportPlan {
  const controls = c.hypernetDir !== undefined ? controlsOf(c) : { methods: [], comparisons: [] };
  return {
    methods: [
      { id: 'no-adapter' },
      ...(c.adapter !== undefined ? [{ id: 'multitask' }] : []),
      ...(c.hypernetDir !== undefined ? [{ id: 'tagi' }] : []),
      ...controls.methods,
    ],
    comparisons: [{ a: 'tagi', b: 'no-adapter' }, { a: 'tagi', b: 'multitask' }, ...controls.comparisons],
    title: 'Evaluation (ROUGE-L / exact match ×100)',
  };
}

/**
 * The end of the 'eval' stage from scored records: summary, trainer_state.json, results.json/results.md.
 * `tagi eval --queue` ends here too, so both write the same results from the same records.
 */
export async function finishReport(
  run: Run,
  facts: { backend: string; t0: number; load0: number[] | null },
  data: TaskData,
  evaluation: Evaluation,
  plan: ReportPlan,
  te: number,
): Promise<void> {
  const { records, costs } = evaluation;
  const cost = relativeCosts(costs);
  const c = run.config;
  const summary = summarize(records, {
    methods: plan.methods,
    references: data.references,
    evalSets: data.evalSets,
    comparisons: plan.comparisons,
    cost,
    title: plan.title,
  });
  const summaryLine = Object.fromEntries(
    summary.rows
      .filter((r) => r.kind === 'method')
      .flatMap((r) => Object.entries(r.scores).map(([col, sc]) => [`${r.method}/${col}`, Number((sc.rougeL?.estimate ?? NaN).toFixed(2))])),
  );
  const evalSeconds = (performance.now() - te) / 1000;
  await run.finishStage('eval', { summary: summaryLine, seconds: evalSeconds });
  run.progress.info(`[eval] done in ${formatDuration(evalSeconds)}`);
  const results: RunResults = {
    summary,
    facts: {
      command: commandLine(run.command),
      preset: c.preset,
      backend: facts.backend,
      data: data.source,
      seed: c.seed,
      hypernetSeeds: hypernetSeeds(c),
      wallClockSeconds: (performance.now() - facts.t0) / 1000,
      stages: run.stageSeconds(),
      loadAverage: { start: facts.load0, end: loadAverage() },
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      cost,
      byFamily: familyBreakdown(records, (id) => data.byId.get(id)?.category),
    },
  };
  await writeResults(run.dir, results);
  await writePredictions(run.dir, evaluation.predictions);
  run.progress.info(`\n${resultsMarkdown(results)}\nwrote ${run.dir}/results.json, results.md, predictions.jsonl, metrics.jsonl, curves.svg`);
}
