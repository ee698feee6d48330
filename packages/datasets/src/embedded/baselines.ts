// Baselines on the embedded suite that need no model: what an oracle, a constant (majority) answer,
// copying the input, and the best instruction-blind rule achieve. They bound what `tagi demo` shows.
import type { EmbeddedSuite, EmbeddedTask } from './types.js';

/** Predicts an output for an instance input of a task. */
export type Predictor = (task: EmbeddedTask, input: string) => string;

export interface EmbeddedBaselines {
  /** The task's own rule: 100 by construction. */
  readonly oracle: Predictor;
  /** Echo the input. */
  readonly copy: Predictor;
  /** The most frequent output over all training instances, whatever the task. */
  readonly majority: Predictor & { readonly output: string };
  /**
   * The best single training-task rule applied to every input, ignoring the instruction: chosen to
   * maximise mean exact match over the training tasks (macro average over the first
   * `selectionInstancesPerTask` instances of each), then applied to held-out tasks.
   * This estimates what a model that never reads the instruction can reach.
   */
  readonly instructionBlind: Predictor & { readonly rule: string; readonly trainScore: number };
  /**
   * The best fixed answer per input, ignoring the instruction: the output that most training-task
   * rules give for this input (each training task weighs the same; rules that answer "none" abstain).
   * It approximates the answer maximising expected exact match when the task is unknown.
   */
  readonly instructionBlindVote: Predictor;
}

const exact = (pred: string, refs: readonly string[]): number => (refs.some((r) => r.trim() === pred.trim()) ? 1 : 0);

export interface BaselineOptions {
  /** Training instances per task used to choose the best single rule (default 20; all: Infinity). */
  readonly selectionInstancesPerTask?: number;
}

export function embeddedBaselines(suite: EmbeddedSuite, options: BaselineOptions = {}): EmbeddedBaselines {
  const perTask = options.selectionInstancesPerTask ?? 20;
  const oracle: Predictor = (task, input) => suite.solve(task.taskId, input);
  const copy: Predictor = (_task, input) => input;

  const freq = new Map<string, number>();
  for (const t of suite.train) for (const inst of t.instances) for (const o of inst.outputs.slice(0, 1)) freq.set(o, (freq.get(o) ?? 0) + 1);
  let majorityOutput = '';
  let best = -1;
  for (const [o, n] of [...freq].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n > best) {
      best = n;
      majorityOutput = o;
    }
  }
  const majority = Object.assign((() => majorityOutput) as Predictor, { output: majorityOutput });

  // A rule applied outside its task's input format may fail; an instruction-blind model would then
  // at least echo the input.
  const apply = (ruleTask: string, input: string): string => {
    try {
      return suite.solve(ruleTask, input);
    } catch {
      return input;
    }
  };
  let bestRule = '<copy>';
  let bestScore = -1;
  const candidates = ['<copy>', '<majority>', ...suite.train.map((t) => t.taskId)];
  for (const rule of candidates) {
    let sum = 0;
    for (const t of suite.train) {
      let s = 0;
      const sample = t.instances.slice(0, perTask);
      for (const inst of sample) {
        const pred = rule === '<copy>' ? inst.input : rule === '<majority>' ? majorityOutput : apply(rule, inst.input);
        s += exact(pred, inst.outputs);
      }
      sum += sample.length === 0 ? 0 : s / sample.length;
    }
    const score = sum / Math.max(1, suite.train.length);
    if (score > bestScore) {
      bestScore = score;
      bestRule = rule;
    }
  }
  const blind: Predictor = (_task, input) => (bestRule === '<copy>' ? input : bestRule === '<majority>' ? majorityOutput : apply(bestRule, input));
  const instructionBlind = Object.assign(blind, { rule: bestRule, trainScore: bestScore });
  // Training outputs are never "none" (samplers plant what each rule needs), so a rule that answers
  // "none" or fails on an input would not have produced it: it does not vote.
  const instructionBlindVote: Predictor = (_task, input) => {
    const votes = new Map<string, number>();
    for (const t of suite.train) {
      let out: string;
      try {
        out = suite.solve(t.taskId, input);
      } catch {
        continue;
      }
      if (out === 'none' || out === '') continue;
      votes.set(out, (votes.get(out) ?? 0) + 1);
    }
    let bestOut = input;
    let bestVotes = 0;
    // Ties go to the lexicographically first output, so the baseline is deterministic.
    for (const [out, n] of [...votes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (n > bestVotes) {
        bestVotes = n;
        bestOut = out;
      }
    }
    return bestOut;
  };
  return { oracle, copy, majority, instructionBlind, instructionBlindVote };
}

// ---------------------------------------------------------------------------------------------
// Baselines per split, scored with a small local stand-in for SNI's metrics: exact match and an
// LCS-based ROUGE-L F over lower-cased whitespace tokens. The suites' outputs are lower-case words,
// where this agrees with @tagi/eval's rouge_score tokenisation; the SNI-exact metrics live there.

function lcs(a: readonly string[], b: readonly string[]): number {
  const dp = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let prev = 0;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = x === b[j - 1] ? prev + 1 : Math.max(dp[j] as number, dp[j - 1] as number);
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}
/** ROUGE-L F (×1) of one prediction against one reference, whitespace tokens, lower-cased. */
export function localRougeL(prediction: string, reference: string): number {
  const p = prediction.toLowerCase().split(/\s+/).filter(Boolean);
  const r = reference.toLowerCase().split(/\s+/).filter(Boolean);
  const l = lcs(p, r);
  if (l === 0) return 0;
  const prec = l / p.length;
  const rec = l / r.length;
  return (2 * prec * rec) / (prec + rec);
}

export interface BaselineRow {
  readonly baseline: 'oracle' | 'copy input' | 'majority output' | 'instruction-blind (best single rule)' | 'instruction-blind (per-input vote)';
  /** 'seen' (fresh instances of training tasks), 'heldout-combination', 'heldout-family', or for lexical-v1 'heldout', 'heldout-parameter', 'heldout-category'. */
  readonly split: string;
  readonly tasks: number;
  readonly instances: number;
  /** ×100, micro-averaged over instances. */
  readonly exactMatch: number;
  readonly rougeL: number;
}

/** The splits a suite is scored on, each a list of tasks whose instances are evaluated. */
export function evaluationSplits(suite: EmbeddedSuite): { split: string; tasks: readonly EmbeddedTask[] }[] {
  const s = suite as EmbeddedSuite & { seenEval?: readonly EmbeddedTask[] };
  if (s.seenEval !== undefined) {
    return [
      { split: 'seen', tasks: s.seenEval },
      { split: 'heldout-combination', tasks: suite.heldOut.filter((t) => t.heldOutReason === 'combination') },
      { split: 'heldout-family', tasks: suite.heldOut.filter((t) => t.heldOutReason === 'family') },
    ];
  }
  return [
    { split: 'heldout', tasks: suite.heldOut },
    { split: 'heldout-parameter', tasks: suite.heldOut.filter((t) => t.heldOutReason === 'parameter') },
    { split: 'heldout-category', tasks: suite.heldOut.filter((t) => t.heldOutReason === 'category') },
  ];
}

/** Every model-free baseline on every evaluation split of the suite (the README's table). */
export function baselineTable(suite: EmbeddedSuite, options: BaselineOptions = {}): BaselineRow[] {
  const b = embeddedBaselines(suite, options);
  const predictors: [BaselineRow['baseline'], Predictor][] = [
    ['oracle', b.oracle],
    ['copy input', b.copy],
    ['majority output', b.majority],
    ['instruction-blind (best single rule)', b.instructionBlind],
    ['instruction-blind (per-input vote)', b.instructionBlindVote],
  ];
  const rows: BaselineRow[] = [];
  for (const [baseline, f] of predictors) {
    for (const { split, tasks } of evaluationSplits(suite)) {
      let em = 0;
      let rl = 0;
      let n = 0;
      for (const t of tasks)
        for (const inst of t.instances) {
          const pred = f(t, inst.input);
          em += exact(
            pred.toLowerCase(),
            inst.outputs.map((o) => o.toLowerCase()),
          );
          rl += Math.max(0, ...inst.outputs.map((o) => localRougeL(pred, o)));
          n++;
        }
      rows.push({ baseline, split, tasks: tasks.length, instances: n, exactMatch: n === 0 ? 0 : (100 * em) / n, rougeL: n === 0 ? 0 : (100 * rl) / n });
    }
  }
  return rows;
}
