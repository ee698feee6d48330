// Baselines on the embedded suite that need no model: what an oracle, a constant (majority) answer,
// copying the input, and the best instruction-blind rule achieve. They bound what `tagi demo` shows.
import type { EmbeddedSuite, EmbeddedTask } from './suite.js';

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
  const blind: Predictor = (_task, input) =>
    bestRule === '<copy>' ? input : bestRule === '<majority>' ? majorityOutput : apply(bestRule, input);
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
