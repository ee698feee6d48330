// Public API of @tagi/hypernet (browser-safe; checkpoint file IO lives in '@tagi/hypernet/node').

// configuration
export {
  DEFAULT_HYPERNET_CONFIG,
  DEFAULT_TARGETS,
  PEFT_ONLY_HYPERNET_CONFIG,
  TINY_HYPERNET_CONFIG,
  hypernetConfigToJson,
  parseHypernetConfig,
  resolveHypernetConfig,
} from './config.js';
export type { EncoderKind, FusionKind, HypernetConfig, PoolingKind } from './config.js';

// errors
export { HypernetCheckpointError, HypernetConfigError, HypernetInputError } from './errors.js';

// the hypernetwork
export {
  CrossAttentionFusion,
  HyperNetwork,
  crossAttentionHook,
  disposeDeltas,
  disposeEncoding,
  fusionHook,
  makeFusionLayers,
  maskedMeanPool,
  resolveTargets,
  selectEncodingRows,
  stackEncodings,
} from './hypernet.js';
export type { HyperNetworkOptions, InstructionEncoding, TargetModule } from './hypernet.js';
export type { BaseSeq2SeqModel, EncoderPrefixInput } from './base-model.js';

// inference with cached task adapters
export {
  generateAdapter,
  generateAdapters,
  generateWithTask,
  generateWithTasks,
  generatedLoraConfig,
  taskForwardArgs,
  taskHook,
  taskPrefix,
} from './inference.js';
export type { TaskAdapter, TaskAdapterBatch } from './inference.js';

// self-describing task-adapter exports (bytes; directories via the node subpath)
export {
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  TAGI_ADAPTER_FILE,
  TAGI_ADAPTER_FORMAT,
  TAGI_ADAPTER_VERSION,
  TAGI_FUSION_FILE,
  parseTaskAdapterMeta,
  peftReproducesTagi,
  taskAdapterFiles,
  taskAdapterFromFiles,
} from './export.js';
export type { LoadedTaskAdapter, TaskAdapterFilesOptions, TaskAdapterLoadOptions, TaskAdapterMeta } from './export.js';

// batching and the stage-2 document split
export { DEFAULT_SPLIT_LENGTHS, IGNORE_INDEX, padIds, padLabels, splitDocument } from './batching.js';
export type { IdCheck, SplitExample, SplitLengths } from './batching.js';

// training: stage 2 (pretraining) and stage 3 (finetuning) as objectives for tensor-core's `fit`
export {
  InstructionCache,
  TeacherLogitCache,
  finetuneHypernet,
  finetuneObjective,
  pretrainHypernet,
  pretrainObjective,
  seededPermutation,
  studentLoss,
  trainableParameters,
} from './training.js';
export type {
  FinetuneBatch,
  FinetuneExample,
  FinetuneObjective,
  FinetuneObjectiveOptions,
  FinetuneTask,
  PretrainBatch,
  PretrainObjectiveOptions,
  StageFitOptions,
  TeacherOptions,
} from './training.js';

// checkpoints (contents; files via the node subpath)
export {
  HYPERNET_CONFIG_FILE,
  HYPERNET_FORMAT_VERSION,
  HYPERNET_WEIGHTS_FILE,
  baseModelReference,
  checkBaseModel,
  hypernetCheckpointJson,
  hypernetWeightsBytes,
  hypernetWeightsSha256,
  restoreHypernet,
} from './checkpoint.js';
export type { BaseModelReference, RestoreOptions } from './checkpoint.js';
