// Public API of @tagi/lora (browser-safe; peft directory IO lives in '@tagi/lora/node').

// config (peft adapter_config.json)
export {
  parseLoraConfig,
  parseLoraConfigText,
  loraConfig,
  loraConfigToJson,
  stringifyLoraConfig,
  loraScaling,
  LoraConfigError,
  LORA_CONFIG_DEFAULTS,
  DEFAULT_T5_TARGETS,
} from './config.js';
export type { LoraConfig, LoraConfigInit, TargetModules } from './config.js';

// the target language (peft's target_modules, plus regex list entries; documented in target-modules.ts)
export { matchesTarget, targetModulesRegex, isTargetPattern, targetPatternError } from './target-modules.js';
// target matching on a model and peft key names
export { matchTargets, linearModules, peftKey, parsePeftKey, TargetMatchError } from './targets.js';
export type { LinearTarget, MatchOptions } from './targets.js';

// adapter sets
export { AdapterSet, AdapterMergeError, AdapterShapeError, lowRankSingularValues, symmetricEigen } from './adapter-set.js';
export type { LoraFactors, ModuleStats, CreateOptions, FromTensorsOptions } from './adapter-set.js';

// stage-1 training as an objective for tensor-core's fit (teachers and the multitask baseline)
export { loraObjective, collate, disposeBatch, evalLoss, processedTokens, splitExamples, tokenizeRecords, TeacherTrainingError } from './teacher.js';
export type { LoraObjective, LoraObjectiveOptions, RecordTokenizer, Seq2SeqBatch, Seq2SeqModel, TokenizedExample } from './teacher.js';
// many adapters (one per task or category) trained at once, each example with its group's factors
export { AdapterBank, loraBankObjective } from './bank.js';
export type { GroupedExample, LoraBankObjective, LoraBankObjectiveOptions } from './bank.js';
