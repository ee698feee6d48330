// The end of an evaluation, shared by `tagi eval`/`tagi demo` (commands.ts) and `tagi eval --queue` (queue/eval.ts):
// what a report compares, and scored records -> summary, trainer_state.json, results.json/results.md. Its own module so
// the queue imports it without importing the command table (no file cycle).
import os from 'node:os';
import type { ComparisonSpec } from '@tagi/eval';
import type { TagiConfig } from './config.js';
import type { TaskData } from './data.js';
import { formatDuration } from './progress.js';
import { type RunResults, familyBreakdown, relativeCosts, resultsMarkdown, summarize, writePredictions, writeResults } from './results.js';
import type { Run } from './run.js';
import { commandLine } from './run-files.js';
import type { Evaluation } from './stages/evaluate.js';
import { hypernetSeeds } from './stages/hypernet.js';

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

export const DEMO_PLAN: ReportPlan = {
  methods: [{ id: 'no-adapter' }, { id: 'multitask' }, { id: 'hint' }, { id: 'tagi' }],
  comparisons: [
    { a: 'tagi', b: 'no-adapter' },
    { a: 'tagi', b: 'hint' },
    { a: 'tagi', b: 'multitask' },
  ],
  title: 'TAGI on the evaluation settings (ROUGE-L / exact match ×100)',
};

/** The report of `tagi eval`: the base, then the rows of --adapter and --hypernet when given. */
export function evalPlan(c: TagiConfig): ReportPlan {
  return {
    methods: [{ id: 'no-adapter' }, ...(c.adapter !== undefined ? [{ id: 'multitask' }] : []), ...(c.hypernetDir !== undefined ? [{ id: 'tagi' }] : [])],
    comparisons: [
      { a: 'tagi', b: 'no-adapter' },
      { a: 'tagi', b: 'multitask' },
    ],
    title: 'Evaluation (ROUGE-L / exact match ×100)',
  };
}

/**
 * The end of the 'eval' stage from scored records: summary, trainer_state.json, results.json/results.md.
 * `tagi eval --queue` ends here too, so both write the same results from the same records.
 */
export async function finishReport(run: Run, facts: { backend: string; t0: number; load0: number[] | null }, data: TaskData, evaluation: Evaluation, plan: ReportPlan, te: number): Promise<void> {
  const { records, costs } = evaluation;
  const cost = relativeCosts(costs);
  const c = run.config;
  const summary = summarize(records, { methods: plan.methods, references: data.references, evalSets: data.evalSets, comparisons: plan.comparisons, cost, title: plan.title });
  const summaryLine = Object.fromEntries(
    summary.rows.filter((r) => r.kind === 'method').flatMap((r) => Object.entries(r.scores).map(([col, sc]) => [`${r.method}/${col}`, Number((sc.rougeL?.estimate ?? NaN).toFixed(2))])),
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

