// Records shared by the embedded suites ('compositional-v2', the default; 'compositional-v1' and
// 'lexical-v1', the earlier suites, kept so runs made with them still load and compare).
import type { Task } from '../types.js';

/** The embedded suites, by name. */
export const EMBEDDED_SUITES = ['compositional-v2', 'compositional-v1', 'lexical-v1'] as const;
export type EmbeddedSuiteName = (typeof EMBEDDED_SUITES)[number];
/** What `embeddedSuite()` and the registry's 'embedded' return without a name. */
export const DEFAULT_EMBEDDED_SUITE: EmbeddedSuiteName = 'compositional-v2';

export interface EmbeddedSuiteOptions {
  /** Which suite. Default 'compositional-v2'; 'compositional-v1' its predecessor; 'lexical-v1' the first suite (258 word tasks). */
  readonly name?: EmbeddedSuiteName;
  /** Seed of every random choice (inputs, examples). Default 0. */
  readonly seed?: number;
  /** Instances per training task. Default 256 (compositional-v2) / 64 (compositional-v1) / 60 (lexical-v1). */
  readonly trainInstances?: number;
  /** Instances per held-out task. Default 32 (compositional-v2) / 24 (compositional-v1) / 30 (lexical-v1). */
  readonly heldOutInstances?: number;
  /** Fresh instances per training task for seen-task evaluation. Default 16; compositional suites only. */
  readonly seenEvalInstances?: number;
  /** Positive examples per task (with explanations). Default 3. */
  readonly positiveExamples?: number;
  /** Negative examples per task (with explanations). Default 2. */
  readonly negativeExamples?: number;
}

/**
 * Why a task is in the held-out split. lexical-v1: a whole unseen 'category' or an unseen
 * 'parameter'. compositional suites: an unseen 'combination' of seen primitives, or a whole unseen 'family'.
 */
export type HeldOutReason = 'category' | 'parameter' | 'combination' | 'family';

export interface EmbeddedTask extends Task {
  readonly split: 'train' | 'heldout';
  /** Set for held-out tasks. */
  readonly heldOutReason?: HeldOutReason;
  /** The parameter slug within the category ("k3", "animal", "first_opposite_color"). */
  readonly param: string;
}

export interface EmbeddedCategoryInfo {
  readonly name: string;
  readonly summary: string;
  readonly heldOut: boolean;
  readonly trainTasks: number;
  readonly heldOutTasks: number;
}

export interface EmbeddedSuite {
  readonly name: EmbeddedSuiteName;
  readonly seed: number;
  readonly tasks: readonly EmbeddedTask[];
  readonly train: readonly EmbeddedTask[];
  readonly heldOut: readonly EmbeddedTask[];
  readonly categories: readonly EmbeddedCategoryInfo[];
  /** Solve an input for a task id with the task's own rule (the oracle). */
  solve(taskId: string, input: string): string;
}
