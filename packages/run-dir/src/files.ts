// The files of a run directory, by name. A run dir is what `tagi` writes (`runs/<name>/`) and what
// `tagi inspect`, `--resume` and the playground read.
export const RUN_FILES = {
  /** The run's resolved config (the trainer's schema; sorted keys): run-config.ts reads what the playground needs. */
  config: 'config.json',
  /** Stages, checkpoints and artefacts by role: run-state.ts. */
  state: 'trainer_state.json',
  /** Scores: format 'tagi-results' version 2 (older shapes are read too): results.ts. */
  results: 'results.json',
  /** The same results as Markdown tables. */
  resultsMarkdown: 'results.md',
  /** One training event a line (loss, lr, tokens, eval). */
  metrics: 'metrics.jsonl',
  /** Every scored prediction, one JSON object a line. */
  predictions: 'predictions.jsonl',
  /** Training curves drawn from metrics.jsonl. */
  curves: 'curves.svg',
  /** Held while a process writes the run (tensor-core's acquireLock). */
  lock: '.tagi.lock',
} as const;
