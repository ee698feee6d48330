// Public API of @tagi/distill: TAGI's losses on plain tensors.

// errors
export { DistillInputError } from './errors.js';

// cross-entropy
export { IGNORE_INDEX, maskedCrossEntropy, labelMask, checkLabelIds } from './cross-entropy.js';
export type { MaskedCrossEntropyOptions } from './cross-entropy.js';

// knowledge distillation
export { distillKl } from './kl.js';
export type { DistillKlOptions } from './kl.js';

// parameter alignment
export { parameterAlignmentLoss } from './alignment.js';
export type { AlignmentMode, ParameterAlignmentOptions } from './alignment.js';

// combined objective
export { tagiLoss, readLossTerms, resolveTagiLossConfig, DEFAULT_TAGI_LOSS_CONFIG } from './objective.js';
export type { TagiLossConfig, TagiLossInputs, TagiLossTerms, TagiLossValues } from './objective.js';
