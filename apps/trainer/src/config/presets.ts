// Presets: complete configs the schema validates. `smoke` runs in seconds (tests), `tiny` is the
// default of `tagi demo` (≤ 15 minutes on 2 CPU cores, wasm), and the two LM-adapt presets carry the
// paper's settings for real runs with a downloaded `google/t5-*-lm-adapt` (`--model DIR`).
//
// Sources of the LM-adapt settings (read, not copied):
// - TAGI repo (github.com/Xnhyacinth/TAGI, scripts/train_tk_instruct.sh @8702b4e): max_source_length 1024,
//   max_target_length 128 (generation_max_length 128), num_pos_examples 2 ("Def + 2 Pos"), learning rate
//   5e-5, lr_scheduler_type constant with warmup_ratio 0.03, per-device batch 4 × gradient accumulation 2,
//   KD temperature 3.0, LoRA r 16 for the teachers, seed 42, evaluation on the first 100 instances per
//   test task (SNI official), 3 epochs.
// - TAGI paper (arXiv 2406.12382) and ARCHITECTURE.md: generated LoRA rank 32 on q and v, hypernetwork
//   reusing the frozen T5 encoder, instruction fusion by concatenation.
// - Model shapes: ../shared/data/t5-configs/KNOWN_CONFIGS.md (t5-v1_1-small = t5-small-lm-adapt: d_model 512,
//   d_kv 64, 6 heads, d_ff 1024, 8+8 layers; t5-base-lm-adapt: 768, 64, 12 heads, 2048, 12+12; gated-gelu).
// Step counts of the LM-adapt presets: 3 epochs × 756 SNI train tasks × 100 instances / batch 8 ≈ 28,350.
import type { TagiConfig } from './config.js';

/** peft's default for T5: the attention query and value projections (every attention module). */

const T5_TARGETS = ['q', 'v'];

/** Every attention projection: rank-16 LoRA on q, k, v, o fitted the embedded suite where q, v alone did not (see the README). */
const ATTENTION = ['q', 'k', 'v', 'o'];

// Budget: sized so `tagi demo` finishes in about 15 min on 2 quiet cores (tensorflow backend). The
// settings come from the measurements in DEMO-RESULTS.md: lr 1e-3 (3e-3 stalls every stage near the
// instruction-blind score), 32 relative-position buckets (16 merge distances 4-7 of the suite's inputs),
// one LoRA teacher per training task (the paper's design, trained together as one bank), and the base
// model's steps first: every later stage is capped by how well the base fits the suite.
const tiny: TagiConfig = {
  preset: 'tiny',
  seed: 42,
  backend: 'auto',
  data: 'embedded',
  logEvery: 50,
  checkpointEvery: 200,
  // "Def" prompts: the definition alone (≈ 21 T5 tokens) — Def+2Pos is an option (--prompt.num-pos=2)
  prompt: { numPos: 0, maxSourceLength: 64, maxTargetLength: 4, maxInstancesPerTask: 256, maxEvalInstancesPerTask: 24 },
  base: {
    dModel: 64,
    dKv: 16,
    numHeads: 4,
    dFf: 128,
    numLayers: 2,
    numDecoderLayers: 2,
    feedForwardProj: 'gated-gelu',
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 64,
    dropoutRate: 0,
    pruneVocab: true,
    objective: 'analysis',
    // a 0.3M-parameter model trained from scratch for minutes; big batches cost little more per update
    // than small ones here (per-op overhead dominates)
    train: { steps: 1200, batchSize: 64, lr: 1e-3, warmupSteps: 50 },
  },
  // one teacher per training task (166), all in one bank: each example runs with its task's LoRA
  teachers: { groupBy: 'task', bankSize: 0, rank: 8, alpha: 16, targetModules: ATTENTION, train: { steps: 300, batchSize: 256, lr: 3e-3, warmupSteps: 20 } },
  multitask: { mode: 'lora', rank: 16, alpha: 32, targetModules: ATTENTION, train: { steps: 800, batchSize: 64, lr: 1e-3, warmupSteps: 30 } },
  hypernet: {
    rank: 16,
    alpha: 32,
    hiddenDim: 64,
    fusion: 'concat',
    pooling: 'mean',
    targetModules: ATTENTION,
    pretrain: { steps: 50, batchSize: 32, lr: 1e-3, warmupSteps: 10, segmentA: 24, segmentB: 16, segmentC: 8 },
    finetune: { steps: 500, batchSize: 64, lr: 1e-3, warmupSteps: 20, tasksPerBatch: 8 },
    seeds: 3,
  },
  // the KL targets are the per-task teachers' distributions (each example's own task teacher)
  distill: { temperature: 2, lambdaKl: 1, lambdaIns: 0.1, alignment: 'delta', klTeacher: 'teachers' },
  optim: { optimizer: 'adamw', weightDecay: 0, maxGradNorm: 1, schedule: 'constant' },
  eval: { batchSize: 128, numBeams: 1, splits: ['seen-train', 'seen-new', 'heldout'], seenTrainInstancesPerTask: 8, serving: 'merged', controls: true },
};

/**
 * `tiny` with a fusion-free hypernetwork (@tagi/hypernet's PEFT_ONLY_HYPERNET_CONFIG): the generated LoRA
 * is the whole task model, so `tagi generate` writes plain peft adapters that reproduce the TAGI student
 * exactly (Python `PeftModel.from_pretrained`), at the price of the fusion path (the w/o-fusion ablation).
 */
const tinyPeft: TagiConfig = {
  ...tiny,
  preset: 'tiny-peft',
  // = PEFT_ONLY_HYPERNET_CONFIG.fusion (not imported: presets load with argument checking, before any model library; a test keeps them equal)
  hypernet: { ...tiny.hypernet, fusion: 'none' },
};

const smoke: TagiConfig = {
  ...tiny,
  preset: 'smoke',
  logEvery: 1,
  checkpointEvery: 2,
  prompt: { numPos: 1, maxSourceLength: 96, maxTargetLength: 4, maxInstancesPerTask: 4, maxEvalInstancesPerTask: 2 },
  base: {
    ...tiny.base,
    dModel: 16,
    dKv: 4,
    numHeads: 2,
    dFf: 32,
    numLayers: 1,
    numDecoderLayers: 1,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 16,
    train: { steps: 4, batchSize: 4, lr: 3e-3, warmupSteps: 1 },
  },
  teachers: { ...tiny.teachers, rank: 2, alpha: 4, train: { steps: 2, batchSize: 4, lr: 5e-3, warmupSteps: 0 } },
  multitask: { ...tiny.multitask, rank: 2, alpha: 4, train: { steps: 3, batchSize: 4, lr: 3e-3, warmupSteps: 0 } },
  hypernet: {
    ...tiny.hypernet,
    rank: 2,
    alpha: 4,
    hiddenDim: 16,
    pretrain: { steps: 2, batchSize: 4, lr: 1e-3, warmupSteps: 0, segmentA: 8, segmentB: 8, segmentC: 4 },
    finetune: { steps: 3, batchSize: 4, lr: 1e-3, warmupSteps: 0, tasksPerBatch: 2 },
    seeds: 2,
  },
  eval: { batchSize: 64, numBeams: 1, splits: ['seen-train', 'seen-new', 'heldout'], seenTrainInstancesPerTask: 1, serving: 'unmerged', controls: true },
};

const lmAdaptCommon = {
  seed: 42,
  backend: 'auto',
  data: 'sni',
  logEvery: 500,
  checkpointEvery: 2500,
  prompt: { numPos: 2, maxSourceLength: 1024, maxTargetLength: 128, maxInstancesPerTask: 100, maxEvalInstancesPerTask: 100 },
  teachers: {
    groupBy: 'category',
    bankSize: 8,
    rank: 16,
    alpha: 32,
    targetModules: T5_TARGETS,
    train: { steps: 2000, batchSize: 8, lr: 5e-5, warmupSteps: 60 },
  },
  multitask: { mode: 'lora', rank: 16, alpha: 32, targetModules: T5_TARGETS, train: { steps: 28350, batchSize: 8, lr: 5e-5, warmupSteps: 850 } },
  distill: { temperature: 3, lambdaKl: 1, lambdaIns: 1, alignment: 'delta', klTeacher: 'multitask' },
  optim: { optimizer: 'adamw', weightDecay: 0, maxGradNorm: 1, schedule: 'constant' },
  eval: { batchSize: 8, numBeams: 1, splits: ['seen-train', 'heldout'], seenTrainInstancesPerTask: 10, serving: 'merged', controls: true },
} as const satisfies Partial<TagiConfig>;

const hypernetLmAdapt = (hiddenDim: number): TagiConfig['hypernet'] => ({
  rank: 32,
  alpha: 32,
  hiddenDim,
  fusion: 'concat',
  pooling: 'mean',
  targetModules: T5_TARGETS,
  pretrain: { steps: 10000, batchSize: 8, lr: 5e-5, warmupSteps: 300, segmentA: 512, segmentB: 256, segmentC: 128 },
  finetune: { steps: 28350, batchSize: 8, lr: 5e-5, warmupSteps: 850, tasksPerBatch: 1 },
  seeds: 1,
});

const t5SmallLmAdapt: TagiConfig = {
  ...(structuredClone(lmAdaptCommon) as unknown as Omit<TagiConfig, 'preset' | 'base' | 'hypernet'>),
  preset: 't5-small-lm-adapt',
  // the base shape is documentation here: these presets expect --model DIR (no base pretraining)
  base: {
    dModel: 512,
    dKv: 64,
    numHeads: 6,
    dFf: 1024,
    numLayers: 8,
    numDecoderLayers: 8,
    feedForwardProj: 'gated-gelu',
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 128,
    dropoutRate: 0.1,
    pruneVocab: false,
    objective: 'mixed',
    train: { steps: 0, batchSize: 8, lr: 5e-5, warmupSteps: 0 },
  },
  hypernet: hypernetLmAdapt(512),
};

// One example a forward/backward pass in every stage (the update is still the batch of 8's): at this shape a
// batch of 8 Def+2Pos prompts in one pass was killed by the OOM killer at 24 GB in its second teacher; in
// parts of one the whole `tagi demo` on the SNI sample peaked at 5.9 GB RSS (2026-12-08, DEMO-RESULTS.md).
const lmAdaptBase = structuredClone(lmAdaptCommon) as unknown as Omit<TagiConfig, 'preset' | 'base' | 'hypernet'>;
const hypernetBase = hypernetLmAdapt(768);
const t5BaseLmAdapt: TagiConfig = {
  ...lmAdaptBase,
  teachers: { ...lmAdaptBase.teachers, train: { ...lmAdaptBase.teachers.train, microBatchSize: 1 } },
  multitask: { ...lmAdaptBase.multitask, train: { ...lmAdaptBase.multitask.train, microBatchSize: 1 } },
  preset: 't5-base-lm-adapt',
  base: {
    dModel: 768,
    dKv: 64,
    numHeads: 12,
    dFf: 2048,
    numLayers: 12,
    numDecoderLayers: 12,
    feedForwardProj: 'gated-gelu',
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 128,
    dropoutRate: 0.1,
    pruneVocab: false,
    objective: 'mixed',
    train: { steps: 0, batchSize: 8, lr: 5e-5, warmupSteps: 0 },
  },
  hypernet: { ...hypernetBase, pretrain: { ...hypernetBase.pretrain, microBatchSize: 1 }, finetune: { ...hypernetBase.finetune, microBatchSize: 1 } },
};

export const PRESETS: Readonly<Record<string, TagiConfig>> = {
  smoke,
  tiny,
  'tiny-peft': tinyPeft,
  't5-small-lm-adapt': t5SmallLmAdapt,
  't5-base-lm-adapt': t5BaseLmAdapt,
};

export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);
