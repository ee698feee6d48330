// Library surface of the trainer (tests, scripts). The run-state reader the playground uses is
// @tagi/tensor-core/node's readRunState; nothing here is needed to read a run dir.

// the CLI as a function, and its argument checking
export { main } from './main.js';
export { parseInvocation, COMMANDS, commandFlags } from './invocation.js';
export type { CommandName, Invocation, RunCommand } from './invocation.js';
export type { CliIO } from './io.js';

// configuration
export { configSchema, validateConfig, coerceValue, kebabToCamel, stableJson, CONFIG_KEYS } from './config.js';
export type { TagiConfig, TrainSettings } from './config.js';
export { resolveConfig, presetConfig } from './resolve.js';
export type { ResolveOptions } from './resolve.js';
export { PRESETS, PRESET_NAMES } from './presets.js';

// errors (one error path: explainError gives the message and exit code of anything thrown)
export { CliError, ConfigError, InterruptedError, explainError, osErrorMessage } from './errors.js';

// the instruction → hypernetwork input call site
export { InstructionInputs, hypernetInstructionIds, instructionText } from './instruction.js';
export type { InstructionTokenizer, TruncationReport } from './instruction.js';

// runs, stages, commands as functions
export { Run, configHash } from './run.js';
export { CONFIG_FILE, METRICS_FILE, LOCK_FILE, defaultRunDir, readRunConfig } from './run-files.js';
export { trainStage, makeOptimizer } from './train.js';
export { generate } from './stages/generate.js';
export type { GenerateOptions, GenerateResult } from './stages/generate.js';
export { finetuneTasks } from './stages/hypernet.js';

// progress, metrics, plots, results
export { Progress, formatDuration } from './progress.js';
export { MetricsWriter, readMetrics } from './metrics.js';
export type { MetricEvent } from './metrics.js';
export { trainingCurvesSvg, seriesFromMetrics } from './plot.js';
export { METHOD_LABELS, methodLabel, familyBreakdown, relativeCosts, resultsMarkdown, summarize, writeResults, readResults } from './results.js';
export type { FamilyBreakdown, RunFacts, RunResults } from './results.js';
export { estimateRun, expectedTimeLine, REFERENCE_SECONDS } from './estimate.js';
export type { TimeEstimate } from './estimate.js';
export { evaluate } from './stages/evaluate.js';
export type { EvalInputs, Evaluation, HypernetEntry, MethodCost } from './stages/evaluate.js';
export { ablationVariants, demoVariants, hypernetSeeds } from './stages/hypernet.js';
export type { HypernetVariant } from './stages/hypernet.js';
