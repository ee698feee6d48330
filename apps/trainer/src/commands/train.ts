// The training/evaluation commands as selections of the demo pipeline's stages.
import type { Invocation } from '../main.js';
import { runPipeline } from '../pipeline.js';
import { METHOD_ROWS, type Results, resultsMarkdown, writeResults } from '../results.js';
import { openRun } from '../run.js';
import { type DemoState, STAGES, newDemoState } from '../stages/index.js';
import { selectBackend } from './index.js';

const COMMAND_STAGES: Record<string, readonly string[]> = {
  demo: STAGES.map((s) => s.id).filter((id) => id !== 'generate' && id !== 'load'),
  teachers: ['data', 'base', 'teachers'],
  pretrain: ['data', 'base', 'hypernet-pretrain'],
  finetune: ['data', 'base', 'load', 'teachers', 'multitask', 'tagi', 'hint'],
  eval: ['data', 'base', 'load', 'eval'],
  generate: ['data', 'base', 'generate'],
};

export async function runDemoLike(inv: Invocation): Promise<DemoState> {
  const t0 = performance.now();
  const backend = await selectBackend(inv);
  const ctx = await openRun({
    config: inv.config,
    runDir: inv.runDir,
    resume: inv.resume,
    out: inv.io.stdout,
    ...(inv.io.tty !== undefined ? { tty: inv.io.tty } : {}),
    ...(inv.io.signal !== undefined ? { signal: inv.io.signal } : {}),
  });
  ctx.progress.info(`run dir: ${ctx.runDir}${inv.resume ? ' (resuming)' : ''}`);
  const wanted = new Set(COMMAND_STAGES[inv.command] ?? []);
  const stages = STAGES.filter((s) => wanted.has(s.id));
  const state = newDemoState(backend, inv);
  const outcomes = await runPipeline(ctx, stages, state);
  if (inv.command === 'demo' || inv.command === 'eval') {
    const results: Results = {
      preset: inv.config.preset,
      backend,
      seed: inv.config.seed,
      heldOutTasks: state.heldOutTaskCount,
      heldOutInstances: state.heldOutInstanceCount,
      wallClockSeconds: (performance.now() - t0) / 1000,
      stages: outcomes,
      methods: METHOD_ROWS.filter((m) => inv.command === 'demo' || state.results.has(m.id)).map(
        (m) => state.results.get(m.id) ?? { method: m.id, label: m.label, status: 'unavailable', reason: state.unavailableReason(m.id, outcomes) },
      ),
    };
    await writeResults(ctx.runDir, results);
    inv.io.stdout.write(`\n${resultsMarkdown(results)}\nwrote ${ctx.runDir}/results.json, results.md, metrics.jsonl, curves.svg\n`);
  } else {
    const { writeCurves } = await import('../results.js');
    await writeCurves(ctx.runDir);
  }
  return state;
}
