// Evaluation on the queue: one job per held-out task. A worker predicts every method of `tagi eval` on
// its task with the batches stages/evaluate.ts makes (the task's instances in order, eval.batchSize at a
// time, so each batch — padding included — is the single process's); the enqueuer concatenates the
// predictions in task order and scores them exactly as stages/evaluate.ts does, so ROUGE-L and exact
// match equal the single-process numbers (queue.test.ts compares them).
//
// Not here: the FLOPs estimate (relFlops): it needs the loaded models on the enqueuing machine, which
// the queue exists to avoid. Wall clock is the workers' measured time per method.
import { type Task, type TagiExample } from '@tagi/datasets';
import { computeGroupedMetrics, computeMetrics } from '@tagi/eval';
import { generateAdapter, generateWithTask } from '@tagi/hypernet';
import { type AdapterSet, collate, disposeBatch } from '@tagi/lora';
import type { TaskData, Tok } from '../data.js';
import { CliError } from '../errors.js';
import { InstructionInputs } from '../instruction.js';
import { METHOD_ROWS, type MethodId, type MethodResult, type Results, resultsMarkdown, writeResults } from '../results.js';
import { type Run, configHash } from '../run.js';
import type { QueueTarget } from './cli.js';
import { type RunContext, QueueJobError, evalModels } from './context.js';
import { type JobSpec, enqueue, failedJobsError, openQueue, waitForJobs } from './enqueue.js';
import { type EvalJobData, type EvalJobResult, type JobData, jobId, runId } from './jobs.js';
import type { JobHooks } from './teachers.js';

/** The methods `tagi eval` reports for a config: the base, then --adapter, then --hypernet. */
export function evalMethods(c: { adapter?: string | undefined; hypernetDir?: string | undefined }): MethodId[] {
  return ['no-adapter', ...(c.adapter !== undefined ? (['multitask'] as const) : []), ...(c.hypernetDir !== undefined ? (['tagi'] as const) : [])];
}

function decode(tok: Tok, seqs: number[][]): string[] {
  return seqs.map((s) => tok.decode(s.slice(1), { skipSpecialTokens: true }).trim());
}

const yieldNow = () => new Promise<void>((r) => setImmediate(r));

/** Predicts every method of the run on one held-out task. 'stopped': the worker is stopping. */
export async function runEvalJob(ctx: RunContext, job: EvalJobData, h: JobHooks): Promise<EvalJobResult | 'stopped'> {
  const { config: c, data, tok, model } = ctx;
  const task = data.heldOut.find((t) => t.taskId === job.taskId);
  if (task === undefined) throw new QueueJobError(`held-out task '${job.taskId}' is not in the data of ${ctx.runDir} (--data=${c.data})`);
  const rows = data.heldOutExamples.filter((e) => e.taskId === job.taskId);
  const models = await evalModels(ctx);
  const methods = evalMethods(c);
  const predictions: Record<string, string[]> = {};
  const ms: Record<string, number> = {};
  const batches = Math.ceil(rows.length / c.eval.batchSize);
  let done = 0;
  const total = batches * methods.length;
  for (const method of methods) {
    const t0 = performance.now();
    const out: string[] = [];
    if (method === 'tagi') {
      const hn = models.tagi as NonNullable<typeof models.tagi>;
      const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength, hn.config.maxInstructionLength);
      const generated = generateAdapter(hn, inputs.instructionIds(task as Task)); // once per task, as evaluate does
      try {
        for (let i = 0; i < rows.length; i += c.eval.batchSize) {
          await yieldNow();
          if (h.signal.aborted) return 'stopped';
          const chunk = rows.slice(i, i + c.eval.batchSize);
          const seqs = await generateWithTask(hn, generated, chunk.map((e) => inputs.studentInputIds(task, e.studentInput)), { maxNewTokens: c.prompt.maxTargetLength, numBeams: c.eval.numBeams });
          out.push(...decode(tok, seqs));
          h.progress(++done, total);
        }
      } finally {
        generated.dispose();
      }
    } else {
      const adapter: AdapterSet | undefined = method === 'multitask' ? models.multitask : undefined;
      const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength);
      for (let i = 0; i < rows.length; i += c.eval.batchSize) {
        await yieldNow();
        if (h.signal.aborted) return 'stopped';
        const chunk: TagiExample[] = rows.slice(i, i + c.eval.batchSize);
        const b = collate(chunk.map((e) => ({ input: inputs.concatenatedIds(task, e.studentInput), target: [tok.eosTokenId] })), tok.padTokenId);
        try {
          const seqs = await model.generate(b.inputIds, b.attentionMask, { maxNewTokens: c.prompt.maxTargetLength, numBeams: c.eval.numBeams, ...(adapter ? { adapters: adapter.deltas } : {}) });
          out.push(...decode(tok, seqs));
        } finally {
          disposeBatch(b);
        }
        h.progress(++done, total);
      }
    }
    predictions[method] = out;
    ms[method] = performance.now() - t0;
  }
  return { kind: 'eval', taskId: job.taskId, predictions, ms };
}

/** Held-out task ids in the order stages/evaluate.ts runs them (first seen among the held-out instances). */
export function evalTaskOrder(data: TaskData): string[] {
  return [...new Set(data.heldOutExamples.map((e) => e.taskId))];
}

/**
 * Scores per-task predictions as stages/evaluate.ts scores its own: predictions concatenated in task
 * order, micro-averaged ROUGE-L / exact match, grouped by held-out reason; wall clock relative to the
 * multitask model (else the base).
 */
export function mergeEval(data: TaskData, methods: readonly MethodId[], byTask: ReadonlyMap<string, EvalJobResult>): Map<MethodId, MethodResult> {
  const order = evalTaskOrder(data);
  const ordered = order.flatMap((id) => data.heldOutExamples.filter((e) => e.taskId === id));
  const references = ordered.map((e) => [...e.outputs]);
  const reasonOf = new Map(data.heldOut.map((t) => [t.taskId, t.heldOutReason ?? 'heldout']));
  const groups = ordered.map((e) => reasonOf.get(e.taskId) ?? 'heldout');
  const results = new Map<MethodId, MethodResult>();
  for (const method of methods) {
    const predictions = order.flatMap((id) => [...(byTask.get(id)?.predictions[method] ?? [])]);
    if (predictions.length !== ordered.length) throw new CliError(`eval ${method}: ${predictions.length} predictions for ${ordered.length} held-out instances; a worker saw other data than this command`);
    const ms = order.reduce((s, id) => s + (byTask.get(id)?.ms[method] ?? 0), 0);
    const m = computeMetrics(predictions, references);
    const g = computeGroupedMetrics(predictions, references, groups);
    results.set(method, {
      method,
      label: METHOD_ROWS.find((r) => r.id === method)?.label ?? method,
      status: 'ok',
      rougeL: m.rougeL,
      exactMatch: m.exactMatch,
      msPerInstance: ms / ordered.length,
      instances: ordered.length,
      tasks: order.length,
      groups: Object.fromEntries([...g].map(([k, v]) => [k, { rougeL: v.rougeL, exactMatch: v.exactMatch, n: v.count }])),
    });
  }
  const ref = results.get('multitask') ?? results.get('no-adapter');
  for (const r of results.values()) if (ref?.msPerInstance && r.msPerInstance !== undefined) r.relWallClock = r.msPerInstance / ref.msPerInstance;
  return results;
}

/**
 * `tagi eval --queue`: one job per held-out task, then the results table of `tagi eval` from the merged
 * predictions (results.json / results.md, the 'eval' stage in trainer_state.json).
 */
export async function queueEval(run: Run, data: TaskData, q: QueueTarget, backend: JobData['backend'], t0: number): Promise<void> {
  const c = run.config;
  const hash = configHash(run.config);
  const rid = runId(run.dir);
  const methods = evalMethods(c);
  run.checkStop();
  run.progress.info('== evaluation on held-out tasks (queued: one job per task)');
  await run.beginStage('eval', 0);
  run.metrics.truncate('eval', 0);
  const te = performance.now();
  const specs: JobSpec<EvalJobData, EvalJobResult>[] = evalTaskOrder(data).map((taskId) => ({
    id: jobId('eval', rid, hash, taskId),
    label: `eval/${taskId}`,
    data: { kind: 'eval', runDir: run.dir, configHash: hash, backend, taskId },
  }));
  const byTask = new Map<string, EvalJobResult>();
  const queue = openQueue(q);
  try {
    await enqueue(queue, specs);
    const failures = await waitForJobs(run, q, queue, 'eval', specs, async (spec, r) => {
      byTask.set(spec.data.taskId, r);
    });
    if (failures.length > 0) throw failedJobsError(run, q, 'eval', specs.length, failures);
  } finally {
    await queue.close();
  }
  const byMethod = mergeEval(data, methods, byTask);
  for (const [id, m] of byMethod) {
    run.progress.info(`  ${m.label}: ROUGE-L ${(m.rougeL ?? 0).toFixed(2)}, EM ${(m.exactMatch ?? 0).toFixed(2)} (${(m.msPerInstance ?? 0).toFixed(1)} ms/instance on the workers)`);
    run.progress.event('eval', { method: id, rougeL: m.rougeL ?? 0, exactMatch: m.exactMatch ?? 0, msPerInstance: m.msPerInstance ?? 0 }, 'eval');
  }
  await run.finishStage('eval', { summary: Object.fromEntries([...byMethod].map(([k, v]) => [k, Number((v.rougeL ?? 0).toFixed(2))])), seconds: (performance.now() - te) / 1000 });
  const results: Results = {
    preset: c.preset,
    backend,
    seed: c.seed,
    heldOutTasks: data.heldOut.length,
    heldOutInstances: data.heldOutExamples.length,
    wallClockSeconds: (performance.now() - t0) / 1000,
    stages: run.stageSeconds(),
    methods: METHOD_ROWS.filter((m) => methods.includes(m.id)).map((m) => byMethod.get(m.id) as MethodResult),
  };
  await writeResults(run.dir, results);
  run.progress.info(`\n${resultsMarkdown(results)}\nwrote ${run.dir}/results.json, results.md, metrics.jsonl`);
}
