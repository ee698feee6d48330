// A bank of LoRA adapters trained at once: one adapter per group (a task, or a category of tasks) on
// the same frozen model, with factors stacked as `[groups, r, in]` / `[groups, out, r]`. Every example
// of a micro-batch runs with its own group's factors (per-example LoRA), so G teachers cost one training
// run instead of G: the paper's one-teacher-per-task stage 1 at the price of a single multitask run.
// Each group's adapter is an ordinary peft adapter once trained (`adapter(g)`). A group's factors appear
// only in its own examples' forward, so they receive only those examples' gradient.
import * as tf from '@tensorflow/tfjs-core';
import { type DeltaMap, type LowRankDelta, type Module, type Objective, Rng, type StepContext } from '@tagi/tensor-core';
import { AdapterSet } from './adapter-set.js';
import { type LoraConfig, loraScaling } from './config.js';
import { type LinearTarget, matchTargets, peftKey } from './targets.js';
import {
  type Seq2SeqBatch,
  type Seq2SeqModel,
  TeacherTrainingError,
  type TokenizedExample,
  collate,
  disposeBatch,
  processedTokens,
  splitExamples,
} from './teacher.js';

interface BankFactors {
  readonly A: tf.Variable; // [groups, r, in]
  readonly B: tf.Variable; // [groups, out, r]
}

export class AdapterBank {
  readonly scaling: number;
  private readonly factors: Map<string, BankFactors>;
  private disposed = false;

  private constructor(
    readonly config: LoraConfig,
    readonly groups: number,
    factors: Map<string, BankFactors>,
  ) {
    this.factors = factors;
    this.scaling = loraScaling(config);
  }

  /**
   * `groups` fresh adapters on the modules `config.targetModules` selects, each initialised as peft
   * initialises one (A Kaiming-uniform U(±1/sqrt(in)), B zero) from its own stream of `seed`: group g
   * starts exactly as `AdapterSet.create(model, config, { rng: new Rng(seed).fork(name) })`, where name is
   * `names[g]` (e.g. the task id, so a group's start does not depend on which other groups share its bank)
   * or `group-<g>`.
   */
  static create(model: Module, config: LoraConfig, groups: number, opts: { seed?: number; names?: readonly string[] } = {}): AdapterBank {
    if (!Number.isInteger(groups) || groups < 1) throw new TeacherTrainingError(`AdapterBank.create: groups must be a positive integer, got ${groups}`);
    if (opts.names !== undefined && (opts.names.length !== groups || new Set(opts.names).size !== groups)) {
      throw new TeacherTrainingError(`AdapterBank.create: names must be ${groups} distinct strings, got ${opts.names.length}`);
    }
    const targets: LinearTarget[] = matchTargets(model, config.targetModules);
    const root = new Rng(opts.seed ?? 0);
    const r = config.r;
    const perGroup = Array.from({ length: groups }, (_, g) => AdapterSet.create(model, config, { rng: root.fork(opts.names?.[g] ?? `group-${g}`) }));
    const factors = new Map<string, BankFactors>();
    try {
      for (const t of targets) {
        const A = tf.tidy(() => tf.stack(perGroup.map((s) => s.factorsOf(t.path)?.A as tf.Tensor))); // [groups, r, in]
        const B = tf.zeros([groups, t.outFeatures, r]); // [groups, out, r]
        factors.set(t.path, { A: tf.variable(A, true), B: tf.variable(B, true) });
        tf.dispose([A, B]);
      }
    } finally {
      for (const s of perGroup) s.dispose();
    }
    return new AdapterBank(config, groups, factors);
  }

  private live(): void {
    if (this.disposed) throw new Error('AdapterBank: used after dispose()');
  }

  get paths(): string[] {
    return [...this.factors.keys()];
  }

  /** Trainable variables, keyed `<peft key of the module's factor>` with the group axis first. */
  namedVariables(): Map<string, tf.Variable> {
    this.live();
    const out = new Map<string, tf.Variable>();
    for (const [p, f] of this.factors) {
      out.set(peftKey(p, 'A'), f.A);
      out.set(peftKey(p, 'B'), f.B);
    }
    return out;
  }

  /**
   * Per-example deltas for a batch whose example i belongs to group `groupOfExample[i]`: A `[batch, r, in]`,
   * B `[batch, out, r]` (a gather: differentiable on every backend tensor-core supports). New tensors:
   * call inside a tape or tidy.
   */
  select(groupOfExample: readonly number[]): DeltaMap {
    this.live();
    for (const g of groupOfExample) {
      if (!Number.isInteger(g) || g < 0 || g >= this.groups) throw new RangeError(`AdapterBank.select: group ${g} is outside [0, ${this.groups})`);
    }
    const idx = tf.tensor1d([...groupOfExample], 'int32');
    const out = new Map<string, LowRankDelta>();
    for (const [p, f] of this.factors) out.set(p, { A: tf.gather(f.A, idx), B: tf.gather(f.B, idx), scaling: this.scaling });
    idx.dispose();
    return out;
  }

  /** Group g's adapter as a shared AdapterSet (copies; the caller owns it), e.g. to save as a peft dir. */
  adapter(g: number): AdapterSet {
    this.live();
    if (!Number.isInteger(g) || g < 0 || g >= this.groups) throw new RangeError(`AdapterBank.adapter: group ${g} is outside [0, ${this.groups})`);
    const factors = new Map<string, { A: tf.Tensor; B: tf.Tensor }>();
    for (const [p, f] of this.factors) {
      factors.set(p, {
        A: tf.tidy(() => tf.squeeze(tf.slice(f.A, [g, 0, 0], [1, -1, -1]), [0])), // [r, in]
        B: tf.tidy(() => tf.squeeze(tf.slice(f.B, [g, 0, 0], [1, -1, -1]), [0])), // [out, r]
      });
    }
    return AdapterSet.fromTensors(this.config, factors);
  }

  dispose(): void {
    if (this.disposed) return;
    for (const f of this.factors.values()) tf.dispose([f.A, f.B]);
    this.disposed = true;
  }
}

/** A training example of one group of the bank. */
export interface GroupedExample extends TokenizedExample {
  /** Index of the example's group in [0, groups). */
  readonly group: number;
}

export interface LoraBankObjectiveOptions {
  readonly model: Seq2SeqModel;
  readonly examples: readonly GroupedExample[];
  /** Number of groups (adapters); every group needs at least one example. */
  readonly groups: number;
  readonly padId: number;
  readonly config: LoraConfig;
  /** Examples per micro-batch, drawn across groups (default 64). */
  readonly batchSize?: number;
  readonly gradAccum?: number;
  /** Seed of the initialisation and of the example order (default 0). */
  readonly seed?: number;
  /** Names of the groups (their initialisation streams; see `AdapterBank.create`). */
  readonly names?: readonly string[];
}

export interface LoraBankObjective extends Objective<Seq2SeqBatch & { readonly groupOfExample: readonly number[] }> {
  readonly bank: AdapterBank;
  readonly stepsPerEpoch: number;
}

/**
 * Every group's LoRA as one objective for `fit`. Micro-batches walk seeded epochs over all examples (as
 * `loraObjective` does), so each group is visited in proportion to its examples; the loss is the batch's
 * mean target-token CE. A config with `loraDropout` > 0 is refused rather than silently ignored (a bank
 * draws no dropout masks).
 */
export function loraBankObjective(o: LoraBankObjectiveOptions): LoraBankObjective {
  const batchSize = o.batchSize ?? 64;
  const gradAccum = o.gradAccum ?? 1;
  for (const [k, v] of [
    ['batchSize', batchSize],
    ['gradAccum', gradAccum],
    ['groups', o.groups],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new TeacherTrainingError(`loraBankObjective: ${k} must be a positive integer, got ${v}`);
  }
  if (o.config.loraDropout > 0) throw new TeacherTrainingError(`loraBankObjective: lora_dropout must be 0 in a bank (got ${o.config.loraDropout})`);
  const seen = new Set(o.examples.map((e) => e.group));
  for (let g = 0; g < o.groups; g++) if (!seen.has(g)) throw new TeacherTrainingError(`loraBankObjective: group ${g} has no example`);
  for (const [i, e] of o.examples.entries()) {
    if (!Number.isInteger(e.group) || e.group < 0 || e.group >= o.groups)
      throw new TeacherTrainingError(`loraBankObjective: examples.${i}.group must be in [0, ${o.groups}), got ${e.group}`);
  }
  const seed = o.seed ?? 0;
  const bank = AdapterBank.create(o.model, o.config, o.groups, { seed, ...(o.names ? { names: o.names } : {}) });
  const microPerEpoch = Math.ceil(o.examples.length / batchSize);
  const orders = new Map<number, number[]>();
  const orderOf = (epoch: number): number[] => {
    let order = orders.get(epoch);
    if (order === undefined) {
      order = new Rng(seed).fork(`bank-epoch-${epoch}`).shuffle(Array.from({ length: o.examples.length }, (_, i) => i));
      if (orders.size > 4) orders.delete(orders.keys().next().value as number);
      orders.set(epoch, order);
    }
    return order;
  };
  const examplesOf = new WeakMap<object, readonly GroupedExample[]>(); // for split
  return {
    bank,
    stepsPerEpoch: Math.max(1, Math.floor(microPerEpoch / gradAccum)),
    params: bank.namedVariables(),
    batch(ctx: StepContext) {
      const global = ctx.step * gradAccum + ctx.micro;
      const start = (global % microPerEpoch) * batchSize;
      const rows = orderOf(Math.floor(global / microPerEpoch))
        .slice(start, start + batchSize)
        .map((i) => o.examples[i] as GroupedExample);
      const b = { ...collate(rows, o.padId), groupOfExample: rows.map((e) => e.group) };
      examplesOf.set(b, rows);
      return b;
    },
    loss(b) {
      const out = o.model.forward({ inputIds: b.inputIds, attentionMask: b.attentionMask, labels: b.labels, adapters: bank.select(b.groupOfExample) });
      return { loss: out.loss as tf.Scalar };
    },
    tokens: processedTokens,
    release: disposeBatch,
    split: (b, size) => {
      const rows = examplesOf.get(b) as readonly GroupedExample[];
      return splitExamples(rows, o.padId, size).map((p) => ({
        batch: { ...p.batch, groupOfExample: rows.slice(p.start, p.start + p.rows).map((e) => e.group) },
        weight: p.weight,
      }));
    },
  };
}
