// Library surface of the trainer (used by tests and the playground).

// the CLI as a function
export { main, parseInvocation, COMMANDS } from './main.js';
export type { CliIO, CommandName, Invocation } from './main.js';

// configuration
export { configSchema, resolveConfig, validateConfig, coerceValue, kebabToCamel, stableJson, CONFIG_KEYS } from './config.js';
export type { TagiConfig, TrainSettings, ResolveOptions } from './config.js';
export { PRESETS, PRESET_NAMES } from './presets.js';

// errors
export { CliError, ConfigError, CheckpointError, InterruptedError, StageUnavailableError } from './errors.js';

// runs, training loop, checkpoints
export { openRun, train, trainExternal, readRunConfig, defaultRunDir, CONFIG_FILE, METRICS_FILE } from './run.js';
export type { RunContext, Trainable, StepOutput, LoopHooks } from './run.js';
export { readTrainerState, saveCheckpoint, loadCheckpoint, TRAINER_STATE_FILE } from './checkpoint.js';
export type { TrainerState, StageRecord } from './checkpoint.js';

// progress, metrics, plots, results
export { Progress, formatDuration } from './progress.js';
export { MetricsWriter, readMetrics } from './metrics.js';
export type { MetricEvent } from './metrics.js';
export { trainingCurvesSvg, seriesFromMetrics } from './plot.js';
export { METHOD_ROWS, resultsMarkdown, writeResults, readResults } from './results.js';
export type { Results, MethodResult, MethodId } from './results.js';
