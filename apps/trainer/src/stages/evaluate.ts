// Evaluation: every method on every evaluation setting of the data (seen tasks on training and on new
// instances, held-out combinations, the held-out family), scored per instance with @tagi/eval's SNI-exact
// ROUGE-L and exact match — the records results.ts summarises with task-level bootstrap CIs — plus
// measured inference cost on the held-out tasks. A stop (SIGINT/SIGTERM) is honoured between batches;
// evaluation keeps no checkpoint and restarts from its beginning on --resume.
//   No adapter:                         frozen base, Tk-Instruct prompt (definition (+ examples) + input)
//   Instruction-concatenated multitask: base + multitask LoRA, the same prompt
//   HINT-like / TAGI (and ablations):   base + generated adapter (+ fused instruction states), input only;
//                                       each task's adapter generated once from its instruction ids
//                                       (instruction.ts, as training), tasks batched together
//   references (no model):              copy the input, the majority answer, the best instruction-blind rule
import {
  type ScoreRecord,
  adapterInstanceCost,
  concatenatedInstanceFlops,
  costConfigFromHf,
  encoderFlops,
  exactMatch,
  rougeL,
  type T5CostConfig,
} from '@tagi/eval';
import { type HyperNetwork, generateAdapters, generateWithTasks } from '@tagi/hypernet';
import type { AdapterSet } from '@tagi/lora';
import { type T5ForConditionalGeneration, t5ConfigToJson } from '@tagi/t5-model';
import type { Task } from '@tagi/datasets';
import { collate, disposeBatch } from '@tagi/lora';
import { type DataTask, type EvalSet, type TaskData, type Tok, SPLIT_LABELS } from '../data.js';
import { InstructionInputs } from '../instruction.js';
import type { Run } from '../run.js';

/** A trained hypernetwork to evaluate: its method row and training seed. */
export interface HypernetEntry {
  readonly method: string;
  readonly seed: number;
  readonly hn: HyperNetwork;
}

export interface EvalInputs {
  model: T5ForConditionalGeneration;
  multitask?: AdapterSet;
  hypernets: readonly HypernetEntry[];
}

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

export interface Evaluation {
  /** One record per (method, seed, setting, instance). */
  records: ScoreRecord[];
  /** The same instances with their predictions and references (model methods only, not the model-free references). */
  predictions: PredictionRecord[];
  /** Per method (seeds pooled): held-out cost. */
  costs: Map<string, MethodCost>;
}

/** One scored instance of an evaluation setting, with its task. */
export interface Row {
  task: DataTask;
  instanceId: string;
  input: string;
  references: string[];
}

/** The rows of one task of a setting, in instance order (evaluate's unit of prediction on the queue). */
export function taskRows(task: DataTask): Row[] {
  return task.instances.map((i) => ({ task, instanceId: i.id, input: i.input, references: [...i.outputs] }));
}

/** The rows of a setting: its tasks' rows in task order (the order every method's predictions follow). */
export function rowsOf(set: EvalSet): Row[] {
  return set.tasks.flatMap(taskRows);
}

function decode(tok: Tok, seqs: number[][]): string[] {
  return seqs.map((s) => tok.decode(s.slice(1), { skipSpecialTokens: true }).trim());
}

const STOPPED = 'during evaluation (it keeps no checkpoint: it runs again from its beginning)';

/**
 * What prediction needs of its caller: the config, and a stop check between batches (the single process
 * throws its InterruptedError; a queue worker throws to hand its job back).
 */
export interface PredictEnv {
  readonly config: Run['config'];
  yieldAndCheckStop(): Promise<void>;
}

/** The PredictEnv of a run of the single process. */
export function runEnv(run: Run): PredictEnv {
  return { config: run.config, yieldAndCheckStop: () => run.yieldAndCheckStop(STOPPED) };
}

/** One method's predictions over some rows (in row order) and the wall time they took. */
export interface MethodPredictions {
  readonly method: string;
  readonly seed: number | null;
  readonly predictions: readonly string[];
  readonly ms: number;
}

async function runConcatenated(env: PredictEnv, tok: Tok, inputs: InstructionInputs, model: T5ForConditionalGeneration, adapters: AdapterSet | undefined, rows: readonly Row[]): Promise<string[]> {
  const c = env.config;
  const out: string[] = [];
  for (let i = 0; i < rows.length; i += c.eval.batchSize) {
    await env.yieldAndCheckStop();
    const chunk = rows.slice(i, i + c.eval.batchSize);
    const b = collate(chunk.map((r) => ({ input: inputs.concatenatedIds(r.task, r.input), target: [tok.eosTokenId] })), tok.padTokenId);
    try {
      const seqs = await model.generate(b.inputIds, b.attentionMask, { maxNewTokens: c.prompt.maxTargetLength, numBeams: c.eval.numBeams, ...(adapters ? { adapters: adapters.deltas } : {}) });
      out.push(...decode(tok, seqs));
    } finally {
      disposeBatch(b);
    }
  }
  return out;
}

/**
 * A hypernetwork's predictions: tasks are taken in groups whose instances fill about one batch; each
 * group's adapters are generated once (one instruction encoding and one generator pass for the group),
 * then its instances run in batches, every instance with its own task's adapter and fusion rows.
 */
async function runHypernet(env: PredictEnv, tok: Tok, hn: HyperNetwork, rows: readonly Row[]): Promise<string[]> {
  const c = env.config;
  // the instruction as training prepared it, within this hypernetwork's instruction length
  const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength, hn.config.maxInstructionLength);
  const byTask = new Map<string, number[]>();
  rows.forEach((r, i) => byTask.set(r.task.taskId, [...(byTask.get(r.task.taskId) ?? []), i]));
  const out = new Array<string>(rows.length);
  const taskIds = [...byTask.keys()];
  for (let start = 0; start < taskIds.length; ) {
    await env.yieldAndCheckStop();
    const group: string[] = [];
    let n = 0;
    while (start < taskIds.length && (group.length === 0 || n + (byTask.get(taskIds[start] as string)?.length ?? 0) <= c.eval.batchSize)) {
      const id = taskIds[start++] as string;
      group.push(id);
      n += byTask.get(id)?.length ?? 0;
    }
    const taskOf = new Map(group.map((id, k) => [id, k]));
    const adapters = generateAdapters(hn, group.map((id) => inputs.instructionIds(rows[(byTask.get(id) as number[])[0] as number]?.task as Task)));
    try {
      const members = group.flatMap((id) => byTask.get(id) as number[]);
      for (let i = 0; i < members.length; i += c.eval.batchSize) {
        await env.yieldAndCheckStop();
        const chunk = members.slice(i, i + c.eval.batchSize);
        const seqs = await generateWithTasks(
          hn,
          adapters,
          chunk.map((m) => taskOf.get((rows[m] as Row).task.taskId) as number),
          chunk.map((m) => inputs.studentInputIds((rows[m] as Row).task, (rows[m] as Row).input)),
          { maxNewTokens: c.prompt.maxTargetLength, numBeams: c.eval.numBeams },
        );
        decode(tok, seqs).forEach((p, k) => {
          out[chunk[k] as number] = p;
        });
      }
    } finally {
      adapters.dispose();
    }
  }
  return out;
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** FLOPs per held-out instance of every kind of method (@tagi/eval's cost model over the held-out prompts' mean lengths). */
function flopsModel(c: Run['config'], tok: Tok, model: T5ForConditionalGeneration, heldRows: readonly Row[]) {
  const inputs = new InstructionInputs(tok, c.prompt.numPos, c.prompt.maxSourceLength);
  const cost: T5CostConfig = costConfigFromHf(t5ConfigToJson(model.config));
  const len = {
    concatenated: mean(heldRows.map((r) => inputs.concatenatedIds(r.task, r.input).length)),
    input: mean(heldRows.map((r) => inputs.studentInputIds(r.task, r.input).length)),
    instruction: mean(heldRows.map((r) => inputs.instructionIds(r.task).length)),
    target: mean(heldRows.map((r) => tok.encode(r.references[0] ?? '').length)),
  };
  const tasks = new Set(heldRows.map((r) => r.task.taskId)).size;
  const perTask = heldRows.length / Math.max(1, tasks);
  const concat = concatenatedInstanceFlops(cost, { instruction: Math.max(0, Math.round(len.concatenated - len.input)), input: Math.round(len.input), target: Math.round(len.target) });
  const hypernet = (hn: HyperNetwork): number => {
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
    return adapterInstanceCost(cost, { instruction: Math.round(len.instruction), input: Math.round(len.input), target: Math.round(len.target) }, {
      hypernetFlops,
      instances: Math.max(1, Math.round(perTask)),
      fusion: hn.config.fusion === 'concat',
      lora: { rank: hn.config.rank, targets: attentionTargets },
    }).amortisedPerInstance;
  };
  return { concat, hypernet };
}

/**
 * Every model method's predictions on `rows` (one setting, or one task of it on a queue worker), in the
 * order the results list them: the base, the multitask LoRA, then each hypernetwork entry.
 */
export async function predictRows(
  env: PredictEnv,
  tok: Tok,
  models: EvalInputs,
  rows: readonly Row[],
  // the caller's, when it reports the truncations of several calls at once
  inputs = new InstructionInputs(tok, env.config.prompt.numPos, env.config.prompt.maxSourceLength),
): Promise<MethodPredictions[]> {
  const out: MethodPredictions[] = [];
  let t0 = performance.now();
  out.push({ method: 'no-adapter', seed: null, predictions: await runConcatenated(env, tok, inputs, models.model, undefined, rows), ms: performance.now() - t0 });
  if (models.multitask) {
    t0 = performance.now();
    out.push({ method: 'multitask', seed: null, predictions: await runConcatenated(env, tok, inputs, models.model, models.multitask, rows), ms: performance.now() - t0 });
  }
  for (const h of models.hypernets) {
    t0 = performance.now();
    out.push({ method: h.method, seed: h.seed, predictions: await runHypernet(env, tok, h.hn, rows), ms: performance.now() - t0 });
  }
  return out;
}

/** The held-out rows of `data` (every setting's rows if it has no held-out setting): what costs are measured on. */
function costRows(data: TaskData): Row[] {
  const held = data.evalSets.filter((s) => s.split.startsWith('heldout')).flatMap(rowsOf);
  return held.length > 0 ? held : rowsOf(data.evalSets[0] as EvalSet);
}

/** Estimated FLOPs per held-out instance of every model method (seeds of one method share their estimate, as the last seed's). */
export function methodFlops(c: Run['config'], tok: Tok, data: TaskData, models: EvalInputs): Record<string, number> {
  const flops = flopsModel(c, tok, models.model, costRows(data));
  // the multitask LoRA can be merged into the weights once, so its FLOPs are the plain model's
  const out: Record<string, number> = { 'no-adapter': flops.concat, ...(models.multitask ? { multitask: flops.concat } : {}) };
  for (const h of models.hypernets) out[h.method] = flops.hypernet(h.hn);
  return out;
}

/** One setting's predictions: every model method's over the setting's rows (rowsOf order). */
export interface SetPredictions {
  readonly set: EvalSet;
  readonly methods: readonly MethodPredictions[];
}

/** The line that opens a setting in the log. */
function announceSet(progress: Run['progress'], set: EvalSet): void {
  progress.info(`== ${SPLIT_LABELS[set.split]}: ${set.tasks.length} tasks, ${rowsOf(set).length} instances`);
}

/**
 * Scores predictions — the references' (computed here: they need no model) and every model method's — into
 * per-instance records and held-out costs, one setting at a time (`add`, in the order of data.evalSets).
 * Both `tagi eval` and `tagi eval --queue` score through here.
 */
export function evalScorer(progress: Run['progress'], data: TaskData, flops: Readonly<Record<string, number>>): { add(p: SetPredictions, announced?: boolean): void; result(): Evaluation } {
  const referenceIds = new Set(data.references.map((r) => r.id));
  const records: ScoreRecord[] = [];
  const predictionRecords: PredictionRecord[] = [];
  const time = new Map<string, { ms: number; n: number; flops: number }>();
  const record = (method: string, seed: number | null, set: EvalSet, rows: readonly Row[], predictions: readonly string[], ms: number, flopsPerInstance: number) => {
    if (predictions.length !== rows.length) throw new Error(`eval ${method}: ${predictions.length} predictions for ${rows.length} instances of ${set.split}`);
    const scores = rows.map((r, i) => {
      const p = predictions[i] ?? '';
      const rec: ScoreRecord = { method, ...(seed !== null ? { seed } : {}), taskId: r.task.taskId, split: set.split, instanceId: r.instanceId, rougeL: rougeL(p, r.references), exactMatch: exactMatch(p, r.references) };
      records.push(rec);
      if (!referenceIds.has(method)) predictionRecords.push({ method, seed, split: set.split, taskId: r.task.taskId, instanceId: r.instanceId, prediction: p, references: r.references, rougeL: rec.rougeL, exactMatch: rec.exactMatch ?? 0 });
      return rec.rougeL;
    });
    if (set.split.startsWith('heldout') && flopsPerInstance > 0) {
      const t = time.get(method) ?? { ms: 0, n: 0, flops: flopsPerInstance };
      time.set(method, { ms: t.ms + ms, n: t.n + rows.length, flops: flopsPerInstance });
    }
    const eg = predictions.slice(0, 3).map((p, i) => `${JSON.stringify(p)} vs ${JSON.stringify(rows[i]?.references[0])}`);
    progress.info(`  ${method}${seed !== null ? ` (seed ${seed})` : ''}: ROUGE-L ${mean(scores).toFixed(1)} — e.g. ${eg.join('; ')}`);
    progress.event('eval', { method, ...(seed !== null ? { seed } : {}), split: set.split, rougeL: mean(scores), instances: rows.length, msPerInstance: ms / Math.max(1, rows.length) }, 'eval');
  };
  return {
    add({ set, methods }, announced = false) {
      if (!announced) announceSet(progress, set);
      const rows = rowsOf(set);
      // references need no model: no cost recorded (flops 0)
      for (const ref of data.references) record(ref.id, null, set, rows, rows.map((r) => ref.predict(r.task, r.input)), 0, 0);
      for (const m of methods) record(m.method, m.seed, set, rows, m.predictions, m.ms, flops[m.method] ?? 0);
    },
    result() {
      const costs = new Map<string, MethodCost>();
      for (const [m, t] of time) if (t.n > 0) costs.set(m, { msPerInstance: t.ms / t.n, flopsPerInstance: t.flops, instances: t.n });
      return { records, predictions: predictionRecords, costs };
    },
  };
}

/** Scores every setting's predictions at once (evalScorer over `predicted`, in order). */
export function scoreEvaluation(progress: Run['progress'], data: TaskData, predicted: readonly SetPredictions[], flops: Readonly<Record<string, number>>): Evaluation {
  const scorer = evalScorer(progress, data, flops);
  for (const p of predicted) scorer.add(p);
  return scorer.result();
}

/** Scores every method (and reference) on every evaluation setting of `data`; returns per-instance records and held-out costs. */
export async function evaluate(run: Run, data: TaskData, tok: Tok, models: EvalInputs): Promise<Evaluation> {
  const env = runEnv(run);
  const inputs = new InstructionInputs(tok, run.config.prompt.numPos, run.config.prompt.maxSourceLength);
  const scorer = evalScorer(run.progress, data, methodFlops(run.config, tok, data, models));
  for (const set of data.evalSets) {
    // announced before the (long) predictions, scored as soon as they are in
    announceSet(run.progress, set);
    scorer.add({ set, methods: await predictRows(env, tok, models, rowsOf(set), inputs) }, true);
  }
  const cut = inputs.summary();
  if (cut !== undefined) run.progress.info(`  warning: ${cut}`);
  return scorer.result();
}
