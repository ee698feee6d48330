// Evaluation: every method on every evaluation setting of the data (seen tasks on training and on new
// instances, held-out combinations, the held-out family), scored per instance with @tagi/eval's SNI-exact
// ROUGE-L and exact match — the records results.ts summarises with task-level bootstrap CIs — plus
// measured inference cost on the held-out tasks. A stop (SIGINT/SIGTERM) is honoured between batches;
// evaluation keeps no checkpoint and restarts from its beginning on --resume.
//   No adapter:                         frozen base, Tk-Instruct prompt (definition (+ examples) + input)
//   Instruction-concatenated multitask: base + multitask LoRA, the same prompt
//   HINT-like / TAGI (and ablations):   base + generated adapter (+ fused instruction states), input only;
//                                       each task's adapter generated once from its instruction ids
//                                       (InstructionInputs, as training), tasks batched together
//   references (no model):              copy the input, the majority answer, the best instruction-blind rule
import {
  type ScoreRecord,
  adapterInstanceCost,
  concatenatedInstanceFlops,
  costConfigFromHf,
  encoderFlops,
  exactMatch,
  fixedDerangement,
  rougeL,
  type T5CostConfig,
} from '@tagi/eval';
import { InstructionInputs } from '@tagi/datasets';
import { type HyperNetwork, generateAdapter, generateAdapters, generateWithTasks, taskHook, taskPrefix } from '@tagi/hypernet';
import * as tf from '@tensorflow/tfjs-core';
import type { AdapterSet } from '@tagi/lora';
import { type T5ForConditionalGeneration, generate as generateIds, t5ConfigToJson } from '@tagi/t5-model';
import { collate, disposeBatch } from '@tagi/lora';
import { type DataTask, type EvalSet, type TaskData, type Tok, SPLIT_LABELS } from '../data/tasks.js';
import type { HypernetEntry } from '../data/models.js';
import type { MethodCost, PredictionRecord } from '../results/results.js';
import { formatDuration } from '../run/progress.js';
import type { Run } from '../run/run.js';

export interface EvalInputs {
  model: T5ForConditionalGeneration;
  multitask?: AdapterSet;
  hypernets: readonly HypernetEntry[];
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
  /** Told after each batch how many of a method's instances are done (the single process prints progress with an ETA). */
  progress?(method: string, done: number, total: number): void;
}

/** Seconds between two progress lines of one method. */
const PROGRESS_EVERY_SECONDS = 10;

/** The PredictEnv of a run of the single process: progress lines with an ETA at most every 10 s per method. */
export function runEnv(run: Run): PredictEnv {
  let current = { method: '', t0: 0, last: 0 };
  return {
    config: run.config,
    yieldAndCheckStop: () => run.yieldAndCheckStop(STOPPED),
    progress(method, done, total) {
      const now = performance.now();
      if (current.method !== method) current = { method, t0: now, last: now };
      if (done >= total || now - current.last < PROGRESS_EVERY_SECONDS * 1000) return;
      current.last = now;
      const elapsed = (now - current.t0) / 1000;
      run.progress.info(`  ${method}: ${done}/${total} instances, ${formatDuration(elapsed)} so far, ETA ${formatDuration((elapsed / done) * (total - done))}`);
    },
  };
}

/** One method's predictions over some rows (in row order) and the wall time they took. */
export interface MethodPredictions {
  readonly method: string;
  readonly seed: number | null;
  readonly predictions: readonly string[];
  readonly ms: number;
}

async function runConcatenated(
  env: PredictEnv,
  method: string,
  tok: Tok,
  inputs: InstructionInputs,
  model: T5ForConditionalGeneration,
  adapters: AdapterSet | undefined,
  rows: readonly Row[],
): Promise<string[]> {
  const c = env.config;
  const out: string[] = [];
  // merged serving: the LoRA added into the weights once, the plain forward for every batch (restored exactly after)
  const merged = adapters !== undefined && c.eval.serving === 'merged';
  if (merged) adapters.merge(model, { restorable: true });
  try {
    for (let i = 0; i < rows.length; i += c.eval.batchSize) {
      await env.yieldAndCheckStop();
      const chunk = rows.slice(i, i + c.eval.batchSize);
      const b = collate(
        chunk.map((r) => ({ input: inputs.concatenatedIds(r.task, r.input), target: [tok.eosTokenId] })),
        tok.padTokenId,
      );
      try {
        const seqs = await model.generate(b.inputIds, b.attentionMask, {
          maxNewTokens: c.prompt.maxTargetLength,
          numBeams: c.eval.numBeams,
          ...(adapters && !merged ? { adapters: adapters.deltas } : {}),
        });
        out.push(...decode(tok, seqs));
      } finally {
        disposeBatch(b);
      }
      env.progress?.(method, out.length, rows.length);
    }
  } finally {
    if (merged) adapters.unmerge(model);
  }
  return out;
}

/**
 * The instruction ids a hypernetwork row's adapter is generated from for a task, prepared by `inputs` (the
 * one instruction function, within the hypernetwork's length): the task's own (TAGI), another task's (the
 * wrong-instruction control), or nothing but eos (the empty-instruction control).
 */
export type InstructionSource = (task: DataTask, inputs: InstructionInputs, eosTokenId: number) => readonly number[];

const OWN_INSTRUCTION: InstructionSource = (task, inputs) => inputs.instructionIds(task);
const NO_INSTRUCTION: InstructionSource = (_task, _inputs, eos) => [eos];

/** The wrong-instruction control of a setting: each task is given the instruction of another task of the same setting (fixed derangement). */
export function wrongInstructions(set: EvalSet, seed: number): InstructionSource {
  const byId = new Map(set.tasks.map((t) => [t.taskId, t]));
  const text = (id: string) => JSON.stringify((byId.get(id) as DataTask).definition);
  const donor = fixedDerangement([...byId.keys()], seed, (a, b) => text(a) === text(b));
  return (task, inputs) => inputs.instructionIds(byId.get(donor.get(task.taskId) as string) as DataTask);
}

/**
 * Merged serving of a hypernetwork: task by task, the adapter is generated once from the instruction,
 * merged into the base weights (W + s·B·A), and the task's inputs run through the plain batched forward
 * (with the fusion's instruction states); the weights are restored exactly before the next task. The time
 * it takes is what serving the method costs.
 */
async function runHypernetMerged(
  env: PredictEnv,
  method: string,
  tok: Tok,
  hn: HyperNetwork,
  inputs: InstructionInputs,
  rows: readonly Row[],
  instructionOf: InstructionSource,
): Promise<string[]> {
  const c = env.config;
  const byTask = new Map<string, number[]>();
  rows.forEach((r, i) => byTask.set(r.task.taskId, [...(byTask.get(r.task.taskId) ?? []), i]));
  const out = new Array<string>(rows.length);
  let done = 0;
  for (const members of byTask.values()) {
    await env.yieldAndCheckStop();
    const task = generateAdapter(hn, instructionOf((rows[members[0] as number] as Row).task, inputs, tok.eosTokenId));
    task.adapter.merge(hn.base, { restorable: true });
    try {
      for (let i = 0; i < members.length; i += c.eval.batchSize) {
        const chunk = members.slice(i, i + c.eval.batchSize);
        const b = collate(
          chunk.map((m) => ({ input: inputs.studentInputIds((rows[m] as Row).task, (rows[m] as Row).input), target: [tok.eosTokenId] })),
          tok.padTokenId,
        );
        const encoderPrefix = taskPrefix(task, chunk.length);
        const encoderLayerHook = taskHook(task);
        try {
          const { sequences } = await generateIds(hn.base, b.inputIds, b.attentionMask, {
            maxNewTokens: c.prompt.maxTargetLength,
            numBeams: c.eval.numBeams,
            encoderPrefix,
            encoderLayerHook,
          });
          decode(tok, sequences).forEach((p, k) => {
            out[chunk[k] as number] = p;
          });
        } finally {
          disposeBatch(b);
          if (encoderPrefix) tf.dispose([encoderPrefix.states, encoderPrefix.mask]);
        }
      }
    } finally {
      task.adapter.unmerge(hn.base);
      task.dispose();
    }
    done += members.length;
    env.progress?.(method, done, rows.length);
  }
  return out;
}

/**
 * A hypernetwork's predictions, served as config eval.serving says: 'merged' (runHypernetMerged) or
 * 'unmerged': tasks taken in groups whose instances fill about one batch; each group's adapters are
 * generated once (one instruction encoding and one generator pass for the group), then its instances run
 * in batches, every instance with its own task's adapter and fusion rows. `instructionOf` picks the
 * instruction each task's adapter is generated from (default: its own).
 */
async function runHypernet(
  env: PredictEnv,
  method: string,
  tok: Tok,
  hn: HyperNetwork,
  rows: readonly Row[],
  instructionOf: InstructionSource = OWN_INSTRUCTION,
): Promise<string[]> {
  const c = env.config;
  // the instruction as training prepared it, within this hypernetwork's instruction length
  const inputs = new InstructionInputs(tok, { ...c.prompt, maxInstructionLength: hn.config.maxInstructionLength });
  if (c.eval.serving === 'merged') return runHypernetMerged(env, method, tok, hn, inputs, rows, instructionOf);
  const byTask = new Map<string, number[]>();
  rows.forEach((r, i) => byTask.set(r.task.taskId, [...(byTask.get(r.task.taskId) ?? []), i]));
  const out = new Array<string>(rows.length);
  const taskIds = [...byTask.keys()];
  let done = 0;
  for (let start = 0; start < taskIds.length;) {
    await env.yieldAndCheckStop();
    const group: string[] = [];
    let n = 0;
    while (start < taskIds.length && (group.length === 0 || n + (byTask.get(taskIds[start] as string)?.length ?? 0) <= c.eval.batchSize)) {
      const id = taskIds[start++] as string;
      group.push(id);
      n += byTask.get(id)?.length ?? 0;
    }
    const taskOf = new Map(group.map((id, k) => [id, k]));
    const adapters = generateAdapters(
      hn,
      group.map((id) => instructionOf((rows[(byTask.get(id) as number[])[0] as number] as Row).task, inputs, tok.eosTokenId)),
    );
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
        done += chunk.length;
        env.progress?.(method, done, rows.length);
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
  const inputs = new InstructionInputs(tok, c.prompt);
  const cost: T5CostConfig = costConfigFromHf(t5ConfigToJson(model.config));
  const len = {
    concatenated: mean(heldRows.map((r) => inputs.concatenatedIds(r.task, r.input).length)),
    input: mean(heldRows.map((r) => inputs.studentInputIds(r.task, r.input).length)),
    instruction: mean(heldRows.map((r) => inputs.instructionIds(r.task).length)),
    target: mean(heldRows.map((r) => tok.encode(r.references[0] ?? '').length)),
  };
  const tasks = new Set(heldRows.map((r) => r.task.taskId)).size;
  const perTask = heldRows.length / Math.max(1, tasks);
  const concat = concatenatedInstanceFlops(cost, {
    instruction: Math.max(0, Math.round(len.concatenated - len.input)),
    input: Math.round(len.input),
    target: Math.round(len.target),
  });
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
    return adapterInstanceCost(
      cost,
      { instruction: Math.round(len.instruction), input: Math.round(len.input), target: Math.round(len.target) },
      {
        hypernetFlops,
        instances: Math.max(1, Math.round(perTask)),
        fusion: hn.config.fusion === 'concat',
        lora: { rank: hn.config.rank, targets: attentionTargets },
      },
    ).amortisedPerInstance;
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
  inputs = new InstructionInputs(tok, env.config.prompt),
  /** The wrong-instruction control of the rows' setting (wrongInstructions); with config eval.controls, the control rows of every 'tagi' entry. */
  wrong?: InstructionSource,
): Promise<MethodPredictions[]> {
  const out: MethodPredictions[] = [];
  const timed = async (method: string, seed: number | null, predict: () => Promise<string[]>) => {
    const t0 = performance.now();
    const predictions = await predict();
    out.push({ method, seed, predictions, ms: performance.now() - t0 });
  };
  await timed('no-adapter', null, () => runConcatenated(env, 'no-adapter', tok, inputs, models.model, undefined, rows));
  const multitask = models.multitask;
  if (multitask) await timed('multitask', null, () => runConcatenated(env, 'multitask', tok, inputs, models.model, multitask, rows));
  for (const h of models.hypernets) {
    const label = `${h.method} (seed ${h.seed})`;
    await timed(h.method, h.seed, () => runHypernet(env, label, tok, h.hn, rows));
    if (h.method === 'tagi' && env.config.eval.controls && wrong !== undefined) {
      await timed(WRONG_INSTRUCTION, h.seed, () => runHypernet(env, `${WRONG_INSTRUCTION} (seed ${h.seed})`, tok, h.hn, rows, wrong));
      await timed(EMPTY_INSTRUCTION, h.seed, () => runHypernet(env, `${EMPTY_INSTRUCTION} (seed ${h.seed})`, tok, h.hn, rows, NO_INSTRUCTION));
    }
  }
  return out;
}

/** Method ids of the control rows (config eval.controls). */
export const WRONG_INSTRUCTION = 'tagi-wrong-instruction';
export const EMPTY_INSTRUCTION = 'tagi-empty-instruction';

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
export function evalScorer(
  progress: Run['progress'],
  data: TaskData,
  flops: Readonly<Record<string, number>>,
): { add(p: SetPredictions, announced?: boolean): void; result(): Evaluation } {
  const referenceIds = new Set(data.references.map((r) => r.id));
  const records: ScoreRecord[] = [];
  const predictionRecords: PredictionRecord[] = [];
  const time = new Map<string, { ms: number; n: number; flops: number }>();
  const record = (
    method: string,
    seed: number | null,
    set: EvalSet,
    rows: readonly Row[],
    predictions: readonly string[],
    ms: number,
    flopsPerInstance: number,
  ) => {
    if (predictions.length !== rows.length) throw new Error(`eval ${method}: ${predictions.length} predictions for ${rows.length} instances of ${set.split}`);
    const scores = rows.map((r, i) => {
      const p = predictions[i] ?? '';
      const rec: ScoreRecord = {
        method,
        ...(seed !== null ? { seed } : {}),
        taskId: r.task.taskId,
        split: set.split,
        instanceId: r.instanceId,
        rougeL: rougeL(p, r.references),
        exactMatch: exactMatch(p, r.references),
      };
      records.push(rec);
      if (!referenceIds.has(method))
        predictionRecords.push({
          method,
          seed,
          split: set.split,
          taskId: r.task.taskId,
          instanceId: r.instanceId,
          prediction: p,
          references: r.references,
          rougeL: rec.rougeL,
          exactMatch: rec.exactMatch ?? 0,
        });
      return rec.rougeL;
    });
    if (set.split.startsWith('heldout') && flopsPerInstance > 0) {
      const t = time.get(method) ?? { ms: 0, n: 0, flops: flopsPerInstance };
      time.set(method, { ms: t.ms + ms, n: t.n + rows.length, flops: flopsPerInstance });
    }
    const eg = predictions.slice(0, 3).map((p, i) => `${JSON.stringify(p)} vs ${JSON.stringify(rows[i]?.references[0])}`);
    progress.info(`  ${method}${seed !== null ? ` (seed ${seed})` : ''}: ROUGE-L ${mean(scores).toFixed(1)} — e.g. ${eg.join('; ')}`);
    progress.event(
      'eval',
      {
        method,
        ...(seed !== null ? { seed } : {}),
        split: set.split,
        rougeL: mean(scores),
        instances: rows.length,
        msPerInstance: ms / Math.max(1, rows.length),
      },
      'eval',
    );
  };
  return {
    add({ set, methods }, announced = false) {
      if (!announced) announceSet(progress, set);
      const rows = rowsOf(set);
      // references need no model: no cost recorded (flops 0)
      for (const ref of data.references)
        record(
          ref.id,
          null,
          set,
          rows,
          rows.map((r) => ref.predict(r.task, r.input)),
          0,
          0,
        );
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
export function scoreEvaluation(
  progress: Run['progress'],
  data: TaskData,
  predicted: readonly SetPredictions[],
  flops: Readonly<Record<string, number>>,
): Evaluation {
  const scorer = evalScorer(progress, data, flops);
  for (const p of predicted) scorer.add(p);
  return scorer.result();
}

/**
 * Scores every method (and reference) on every evaluation setting of `data`; returns per-instance records and
 * held-out costs. `config` (default the run's) decides the prompts, e.g. the Def+2Pos setting of an experiment.
 */
export async function evaluate(run: Run, data: TaskData, tok: Tok, models: EvalInputs, config = run.config): Promise<Evaluation> {
  const env = { ...runEnv(run), config };
  const inputs = new InstructionInputs(tok, config.prompt);
  const scorer = evalScorer(run.progress, data, methodFlops(config, tok, data, models));
  for (const set of data.evalSets) {
    // announced before the (long) predictions, scored as soon as they are in
    announceSet(run.progress, set);
    const wrong = set.tasks.length > 1 ? wrongInstructions(set, config.seed) : undefined;
    scorer.add({ set, methods: await predictRows(env, tok, models, rowsOf(set), inputs, wrong) }, true);
  }
  const cut = inputs.summary();
  if (cut !== undefined) run.progress.info(`  warning: ${cut}`);
  return scorer.result();
}
