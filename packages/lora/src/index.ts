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

// target matching and peft key names
export { matchTargets, matchesTarget, linearModules, peftKey, parsePeftKey, TargetMatchError } from './targets.js';
export type { LinearTarget, MatchOptions } from './targets.js';

// adapter sets
export { AdapterSet, AdapterShapeError, lowRankSingularValues, symmetricEigen } from './adapter-set.js';
export type { LoraFactors, ModuleStats, CreateOptions, FromTensorsOptions } from './adapter-set.js';

