// Public API of @tagi/t5-model (browser-safe; Node IO lives in '@tagi/t5-model/node').

// config
export {
  T5Config,
  parseT5Config,
  makeT5Config,
  t5ConfigToJson,
  stringifyT5Config,
  hfHeadLayout,
  parseFeedForwardProj,
  T5ConfigError,
  T5_ACTIVATIONS,
  T5_FLOAT_FIELDS,
} from './config.js';
export type { T5Activation, HfHeadLayout } from './config.js';

// tokenizer
export { T5Tokenizer, TokenizerError, padBatch } from './tokenizer.js';
export type { EncodeBatchOptions, EncodedBatch } from './tokenizer.js';

// vocabulary pruning
export { VocabMap, VocabMapError, PrunedTokenizer, buildVocabMap, PRUNED_VOCAB_FILE } from './vocab.js';
export type { BuildVocabMapOptions, PrunedVocabJson } from './vocab.js';

// seq2seq collator
export { collateSeq2Seq, collateIds, shiftRight, checkIdRows, BatchIdError, IGNORE_INDEX } from './collator.js';
export type { CollateOptions, Seq2SeqBatch, IdEncoder } from './collator.js';

// model
export {
  T5ForConditionalGeneration,
  T5Attention,
  T5Block,
  T5Stack,
  T5LayerFF,
  T5LayerSelfAttention,
  T5LayerCrossAttention,
  T5DenseActDense,
  createRandomT5,
  relativePositionBucket,
  shiftRightTensor,
  TIED_ALIAS_KEYS,
  TIED_LM_HEAD_KEY,
} from './model.js';
export type { BlockContext } from './model.js';
export { T5InputError } from './types.js';
export type { T5ForwardArgs, T5ForwardOutput, EncoderPrefix, EncoderLayerHook, KV, CrossContext, DecoderOutput, Seq2SeqLM } from './types.js';

// losses
export { crossEntropy, labelLogProbs, splitSeq2SeqBatch } from './loss.js';
export type { Seq2SeqPart } from './loss.js';

// generation and scoring
export { generate, scoreTargets } from './generate.js';
export type { GenerateOptions, GenerateResult, ScoreArgs, ScoreResult } from './generate.js';
