// Public API of @tagi/tensor-core. Node-only file IO lives in '@tagi/tensor-core/node', test helpers
// in '@tagi/tensor-core/testing'.

// backend
export { initBackend, backendReport, BackendError, explainNativeLoadError, gpuUnavailableReason, TFJS_NODE_GPU_NEEDS, TF_GPU_LIBRARIES } from './backend.js';
export type { BackendChoice, BackendAttempt, BackendReport, InitBackendOptions, LibraryOpener } from './backend.js';
export { registerWasmKernels } from './kernels/index.js';

// module tree
export { Module, ModuleList, StateDictError } from './module.js';
export type { StateDictMismatch } from './module.js';

// layers and low-rank deltas
export { Linear, Embedding, RMSNorm, dropout, lowRankForward } from './layers.js';
export type { LowRankDelta, DeltaMap, LinearOptions, EmbeddingOptions } from './layers.js';

// fast products (custom gradients that keep wasm on its plain 2-D kernel)
export { linear, matmul, bmm } from './linear.js';
export { fastMatMul } from './native-product.js';

// randomness and initialisers
export { Rng } from './rng.js';
export type { RngState } from './rng.js';
export { fans, normalInit, uniformInit, kaimingUniformInit, constantInit, zerosInit, onesInit } from './init.js';
export type { Initializer } from './init.js';

// deterministic JSON: sorted keys (the workspace's one writer; files: '@tagi/tensor-core/json-file')
export { stableJson } from './stable-json.js';
export type { StableJsonOptions } from './stable-json.js';

// safetensors (bytes only; see the node subpath for files)
export { parseSafetensors, parseSafetensorsHeader, serializeSafetensors, SafetensorsError, MAX_HEADER_BYTES, f16ToF32, bf16ToF32 } from './safetensors.js';
export type { SafetensorsDtype, SafetensorsFault, SafetensorsEntry, SafetensorsHeader, ParsedSafetensors } from './safetensors.js';

// optimisers, schedules, clipping, accumulation
export { AdamW, Adafactor, clipByGlobalNorm, clipGradNorm, GradAccumulator } from './optim.js';
export type { AdamWOptions, AdafactorOptions, GradMap, NamedParams, OptimizerState } from './optim.js';
export { makeSchedule, constantSchedule, linearSchedule, cosineSchedule } from './schedule.js';
export type { LrSchedule, ScheduleKind, ScheduleOptions } from './schedule.js';

// weights entering a program: no NaN / Inf (checked once, at load)
export { assertFinite, findNonFinite, NonFiniteError } from './finite.js';
export type { NamedWeights } from './finite.js';

// the one training loop, which stops when training diverges (checkpoint files: DirCheckpointStore in the node subpath)
export { fit, FitStateError, DivergenceError, formatLr } from './fit.js';
export { recompute } from './recompute.js';
export { leanVariableGrads } from './lean-grads.js';
export type {
  BatchPart,
  Checkpoint,
  CheckpointStore,
  ExtraState,
  FitOptimizer,
  FitOptions,
  FitResult,
  LossOutput,
  Objective,
  StepContext,
  StepRecord,
} from './fit.js';
