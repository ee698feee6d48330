// Evaluation: every method on the held-out tasks with @tagi/eval's SNI-exact ROUGE-L and exact match,
// plus measured inference cost. Instances are run task by task; a hypernet method generates each task's
// adapter once (timed with the task, from the same instruction ids training used: instruction.ts) and
// then reads the instance inputs alone. A stop (SIGINT/SIGTERM) is honoured between batches; evaluation
// keeps no checkpoint and restarts from its beginning on --resume.
//   No adapter:                      frozen base, Tk-Instruct prompt (definition + examples + input)
//   Instruction-concatenated multitask: base + multitask LoRA, the same prompt
//   HINT-like / TAGI:                base + generated adapter (+ fused instruction states), input only
import {
  adapterInstanceCost,
  computeGroupedMetrics,
  computeMetrics,
  concatenatedInstanceFlops,
  costConfigFromHf,
  encoderFlops,
  type T5CostConfig,
} from '@tagi/eval';
import { type HyperNetwork, generateAdapter, generateWithTask } from '@tagi/hypernet';
import type { AdapterSet } from '@tagi/lora';
import { type T5ForConditionalGeneration, t5ConfigToJson } from '@tagi/t5-model';
import type { Task, TagiExample } from '@tagi/datasets';
import { collate, disposeBatch } from '@tagi/lora';
import type { TaskData, Tok } from '../data.js';
import { InstructionInputs } from '../instruction.js';
import { METHOD_ROWS, type MethodId, type MethodResult } from '../results.js';
import type { Run } from '../run.js';

export interface EvalInputs {
  model: T5ForConditionalGeneration;
  multitask?: AdapterSet;
  hypernets: Partial<Record<'tagi' | 'hint', HyperNetwork>>;
}

interface Predictions {
  predictions: string[];
  ms: number;
}

function groupByTask(rows: readonly TagiExample[]): Map<string, TagiExample[]> {
  const m = new Map<string, TagiExample[]>();
  for (const r of rows) {
    const list = m.get(r.taskId) ?? [];
    list.push(r);
    m.set(r.taskId, list);
  }
  return m;
}

function decode(tok: Tok, seqs: number[][]): string[] {
  return seqs.map((s) => tok.decode(s.slice(1), { skipSpecialTokens: true }).trim());
}

const STOPPED = 'during evaluation (it keeps no checkpoint: it runs again from its beginning)';

async function runConcatenated(run: Run, tok: Tok, inputs: InstructionInputs, tasks: ReadonlyMap<string, Task>, model: T5ForConditionalGeneration, adapters: AdapterSet | undefined, byTask: Map<string, TagiExample[]>): Promise<Predictions> {
  const c = run.config;
  const predictions: string[] = [];
  const t0 = performance.now();
  for (const rows of byTask.values()) {
    for (let i = 0; i < rows.length; i += c.eval.batchSize) {
      await run.yieldAndCheckStop(STOPPED);
      const chunk = rows.slice(i, i + c.eval.batchSize);
      const b = collate(chunk.map((e) => ({ input: inputs.concatenatedIds(tasks.get(e.taskId) as Task, e.studentInput), target: [tok.eosTokenId] })), tok.padTokenId);
      try {
        const seqs = await model.generate(b.inputIds, b.attentionMask, { maxNewTokens: c.prompt.maxTargetLength, numBeams: c.eval.numBeams, ...(adapters ? { adapters: adapters.deltas } : {}) });
        predictions.push(...decode(tok, seqs));
      } finally {
        disposeBatch(b);
      }
    }
  }
  return { predictions, ms: performance.now() - t0 };
}

async function runHypernet(run: Run, tok: Tok, hn: HyperNetwork, tasks: ReadonlyMap<string, Task>, byTask: Map<string, TagiExample[]>): Promise<Predictions> {
  const c = run.config;
  // the instruction as training prepared it, within this hypernetwork's instruction length
  const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength, hn.config.maxInstructionLength);
  const predictions: string[] = [];
  const t0 = performance.now();
  for (const [taskId, rows] of byTask) {
    await run.yieldAndCheckStop(STOPPED);
    const task = generateAdapter(hn, inputs.instructionIds(tasks.get(taskId) as Task)); // once per task
    try {
      for (let i = 0; i < rows.length; i += c.eval.batchSize) {
        await run.yieldAndCheckStop(STOPPED);
        const chunk = rows.slice(i, i + c.eval.batchSize);
        const seqs = await generateWithTask(hn, task, chunk.map((e) => inputs.studentInputIds(tasks.get(taskId) as Task, e.studentInput)), {
          maxNewTokens: c.prompt.maxTargetLength,
          numBeams: c.eval.numBeams,
        });
        predictions.push(...decode(tok, seqs));
      }
    } finally {
      task.dispose();
    }
  }
  return { predictions, ms: performance.now() - t0 };
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export async function evaluate(run: Run, data: TaskData, tok: Tok, models: EvalInputs): Promise<Map<MethodId, MethodResult>> {
  const c = run.config;
  const tasks = new Map<string, Task>(data.heldOut.map((t) => [t.taskId, t]));
  const rows = data.heldOutExamples;
  const byTask = groupByTask(rows);
  const ordered = [...byTask.values()].flat();
  const references = ordered.map((e) => [...e.outputs]);
  const reasonOf = new Map(data.heldOut.map((t) => [t.taskId, t.heldOutReason ?? 'heldout']));
  const groups = ordered.map((e) => reasonOf.get(e.taskId) ?? 'heldout');
  const progress = run.progress;

  // FLOPs model inputs: mean token lengths of the held-out instances
  const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength);
  const instructionLength = new Map([...byTask.keys()].map((id) => [id, inputs.instructionIds(tasks.get(id) as Task).length]));
  const cost: T5CostConfig = costConfigFromHf(t5ConfigToJson(models.model.config));
  const len = {
    concatenated: mean(ordered.map((e) => inputs.concatenatedIds(tasks.get(e.taskId) as Task, e.studentInput).length)),
    input: mean(ordered.map((e) => inputs.studentInputIds(tasks.get(e.taskId) as Task, e.studentInput).length)),
    instruction: mean(ordered.map((e) => instructionLength.get(e.taskId) ?? 0)),
    target: mean(ordered.map((e) => tok.encode(e.outputs[0] ?? '').length)),
  };
  const concatLengths = { instruction: Math.max(0, Math.round(len.concatenated - len.input)), input: Math.round(len.input), target: Math.round(len.target) };
  const concatFlops = concatenatedInstanceFlops(cost, concatLengths);
  const perTask = ordered.length / Math.max(1, byTask.size);

  const results = new Map<MethodId, MethodResult>();
  const label = (id: MethodId) => METHOD_ROWS.find((m) => m.id === id)?.label ?? id;
  const record = (id: MethodId, run: Predictions, flops: number) => {
    const m = computeMetrics(run.predictions, references);
    const g = computeGroupedMetrics(run.predictions, references, groups);
    results.set(id, {
      method: id,
      label: label(id),
      status: 'ok',
      rougeL: m.rougeL,
      exactMatch: m.exactMatch,
      msPerInstance: run.ms / ordered.length,
      flopsPerInstance: flops,
      instances: ordered.length,
      tasks: byTask.size,
      groups: Object.fromEntries([...g].map(([k, v]) => [k, { rougeL: v.rougeL, exactMatch: v.exactMatch, n: v.count }])),
    });
    progress.info(`  ${label(id)}: ROUGE-L ${m.rougeL.toFixed(2)}, EM ${m.exactMatch.toFixed(2)} (${(run.ms / ordered.length).toFixed(1)} ms/instance)`);
    progress.event('eval', { method: id, rougeL: m.rougeL, exactMatch: m.exactMatch, msPerInstance: run.ms / ordered.length }, 'eval');
    const preds = run.predictions.slice(0, 3).map((p, i) => `${JSON.stringify(p)} vs ${JSON.stringify(references[i]?.[0])}`);
    progress.info(`    e.g. ${preds.join('; ')}`);
  };

  progress.info(`  ${ordered.length} held-out instances in ${byTask.size} tasks`);
  const cut = inputs.summary();
  if (cut !== undefined) progress.info(`  warning: ${cut}`);
  record('no-adapter', await runConcatenated(run, tok, inputs, tasks, models.model, undefined, byTask), concatFlops);
  // the multitask LoRA can be merged into the weights once, so its FLOPs are the plain model's
  if (models.multitask) record('multitask', await runConcatenated(run, tok, inputs, tasks, models.model, models.multitask, byTask), concatFlops);
  for (const id of ['hint', 'tagi'] as const) {
    const hn = models.hypernets[id];
    if (!hn) continue;
    // once per task: encoding the instruction with the base encoder, plus the generator. Every weight is
    // used at least once (2 FLOPs each), and each target module runs its group's A and B heads
    // (hidden → r·in and hidden → out·r); counting both slightly over-estimates, never under-estimates.
    const generatorParams = hn.namedParameters().reduce((s, [, v]) => s + v.size, 0);
    const headFlops = hn.targetModules.reduce((s, t) => s + 2 * hn.config.hiddenDim * hn.config.rank * (t.inFeatures + t.outFeatures), 0);
    const hypernetFlops = encoderFlops(cost, Math.round(len.instruction)) + 2 * generatorParams + headFlops;
    // the cost model prices LoRA on attention projections; take them from the hypernet's own targets
    const attentionTargets = [...new Set(hn.targetModules.map((t) => t.path.slice(t.path.lastIndexOf('.') + 1)))].filter(
      (n): n is 'q' | 'k' | 'v' | 'o' => n === 'q' || n === 'k' || n === 'v' || n === 'o',
    );
    const a = adapterInstanceCost(cost, { instruction: Math.round(len.instruction), input: Math.round(len.input), target: Math.round(len.target) }, {
      hypernetFlops,
      instances: Math.max(1, Math.round(perTask)),
      fusion: hn.config.fusion === 'concat',
      lora: { rank: hn.config.rank, targets: attentionTargets },
    });
    record(id, await runHypernet(run, tok, hn, tasks, byTask), a.amortisedPerInstance);
  }
  // relative cost against the instruction-concatenated multitask model (the paper's ×1.00 reference)
  const ref = results.get('multitask') ?? results.get('no-adapter');
  for (const r of results.values()) {
    if (ref?.msPerInstance && r.msPerInstance !== undefined) r.relWallClock = r.msPerInstance / ref.msPerInstance;
    if (ref?.flopsPerInstance && r.flopsPerInstance !== undefined) r.relFlops = r.flopsPerInstance / ref.flopsPerInstance;
  }
  return results;
}
