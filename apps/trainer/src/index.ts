// Library surface of the trainer (tests, scripts). A run dir's files (trainer_state.json, config.json,
// results.json) are read and written with @tagi/run-dir; nothing here is needed to read a run dir.

// the CLI as a function, and its argument checking
export { main } from './cli/main.js';
export { parseInvocation, commandFlags } from './cli/invocation.js';
export type { Invocation } from './cli/invocation.js';
export { COMMANDS } from './common/command-names.js';
export type { CommandName, RunCommand } from './common/command-names.js';
export type { CliIO } from './common/io.js';

// configuration
export { configSchema, validateConfig, coerceValue, kebabToCamel, CONFIG_KEYS } from './config/config.js';
export { stableJson } from '@tagi/run-dir/node';
export type { TagiConfig, TrainSettings } from './config/config.js';
export { resolveConfig, presetConfig } from './config/resolve.js';
export type { ResolveOptions } from './config/resolve.js';
export { PRESETS, PRESET_NAMES } from './config/presets.js';

// errors (one error path: explainError gives the message and exit code of anything thrown)
export { CliError, ConfigError, InterruptedError, explainError, osErrorMessage } from './common/errors.js';

// a run's instruction inputs (homed in @tagi/datasets, built from the config's `prompt` object; re-exported here)
export { InstructionInputs, hypernetInstructionIds, instructionText } from '@tagi/datasets';
export type { InstructionPrompt, InstructionTokenizer, TruncationReport } from '@tagi/datasets';

// task data and the tokenizer a run uses
export { loadTaskData, modelTokenizer } from './data/tasks.js';
export type { TaskData, Tok } from './data/tasks.js';

// runs, stages, commands as functions
export { Run, configHash } from './run/run.js';
export { CONFIG_FILE, METRICS_FILE, LOCK_FILE, defaultRunDir, readRunConfig } from './run/run-files.js';
export { trainStage, makeOptimizer } from './run/train.js';
export { generate } from './stages/generate.js';
export type { GenerateOptions, GenerateResult } from './stages/generate.js';
export { finetuneTasks } from './stages/hypernet.js';

// progress, metrics, plots, results
export { Progress, formatDuration } from './run/progress.js';
export { MetricsWriter, readMetrics } from './run/metrics.js';
export type { MetricEvent } from './run/metrics.js';
export { trainingCurvesSvg, seriesFromMetrics } from './results/plot.js';
export { METHOD_LABELS, methodLabel, familyBreakdown, relativeCosts, resultsMarkdown, summarize, writeResults, readResults } from './results/results.js';
export type { FamilyBreakdown, MethodCost, RunFacts, RunResults } from './results/results.js';
export { estimateRun, expectedTimeLine, REFERENCE_SECONDS } from './cli/estimate.js';
export type { TimeEstimate } from './cli/estimate.js';
export { evaluate } from './stages/evaluate.js';
export type { EvalInputs, Evaluation } from './stages/evaluate.js';
export type { HypernetEntry } from './data/models.js';
export { ablationVariants, demoVariants, hypernetSeeds } from './stages/hypernet.js';
export type { HypernetVariant } from './stages/hypernet.js';
