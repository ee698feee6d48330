import * as tf from '@tensorflow/tfjs-core';
import type { DeltaMap } from './types.js';
import { type AlignmentMode, parameterAlignmentLoss } from './alignment.js';
import { expectNonNegative } from './checks.js';
import { IGNORE_INDEX, maskedCrossEntropy } from './cross-entropy.js';
import { DistillInputError } from './errors.js';
import { distillKl } from './kl.js';

/** Weights and settings of the TAGI objective `L = L_ce + λ1·L_kl + λ2·L_ins`. */
export interface TagiLossConfig {
  /** λ1, weight of the distillation term (already includes T²). 0 disables it. Default 1. */
  readonly lambdaKl: number;
  /** λ2, weight of the parameter-alignment term. 0 disables it. Default 0 (needs teacher adapters). */
  readonly lambdaIns: number;
  /** Softmax temperature of the KL term. Default 2. */
  readonly temperature: number;
  /** Parameter alignment on `delta` = scaling·B·A (rank-invariant, default) or on the `factors`. */
  readonly alignment: AlignmentMode;
  /** Label value that is not scored. Default -100. */
  readonly ignoreIndex: number;
}

export const DEFAULT_TAGI_LOSS_CONFIG: TagiLossConfig = {
  lambdaKl: 1,
  lambdaIns: 0,
  temperature: 2,
  alignment: 'delta',
  ignoreIndex: IGNORE_INDEX,
};

export interface TagiLossInputs {
  /** Student decoder logits `[batch, seq, vocab]` (frozen T5 + generated adapter + fusion). */
  readonly studentLogits: tf.Tensor;
  /** Target ids `[batch, seq]` int32 with -100 on padding. */
  readonly labels: tf.Tensor;
  /** Teacher logits over the same labels `[batch, seq, vocab]`; required when λ1 > 0. */
  readonly teacherLogits?: tf.Tensor;
  /** Generated adapter; required with `teacherAdapters` when λ2 > 0. */
  readonly generated?: DeltaMap;
  /** Teacher LoRA adapter of the task (stage 1). */
  readonly teacherAdapters?: DeltaMap;
}

/** Every term of the objective as a scalar tensor (owned by the caller); `null` for a disabled term. */
export interface TagiLossTerms {
  readonly loss: tf.Scalar;
  readonly ce: tf.Scalar;
  readonly kl: tf.Scalar | null;
  readonly ins: tf.Scalar | null;
}

/** The same terms read back as numbers, for logging. */
export interface TagiLossValues {
  readonly loss: number;
  readonly ce: number;
  readonly kl: number | null;
  readonly ins: number | null;
}

/** Fills defaults and validates a partial config (throws `DistillInputError` naming the field). */
export function resolveTagiLossConfig(partial: Partial<TagiLossConfig> = {}): TagiLossConfig {
  const c = { ...DEFAULT_TAGI_LOSS_CONFIG, ...partial };
  expectNonNegative(c.lambdaKl, 'lambdaKl');
  expectNonNegative(c.lambdaIns, 'lambdaIns');
  if (!(Number.isFinite(c.temperature) && c.temperature > 0)) throw new DistillInputError('temperature', 'a finite number > 0', String(c.temperature));
  if (c.alignment !== 'factors' && c.alignment !== 'delta') throw new DistillInputError('alignment', "'factors' or 'delta'", String(c.alignment));
  return c;
}

/**
 * The TAGI finetuning objective `L = L_ce + λ1·L_kl + λ2·L_ins`:
 * - `ce`: {@link maskedCrossEntropy} of the student (mean over non-ignored tokens);
 * - `kl`: {@link distillKl}, `T²·KL(p_teacher ‖ p_student)` at temperature T, mean over non-padding tokens;
 * - `ins`: {@link parameterAlignmentLoss} between generated and teacher adapters.
 *
 * A term whose λ is 0 is not computed and reported as `null`. A term whose λ is > 0 but whose inputs
 * are missing is an error (a silently-zero KL was a defect of the released TAGI code).
 * Call inside a loss that runs in the gradient tape (an objective's `loss` under tensor-core's `fit`, or `tf.variableGrads`); return the terms to log beside the loss.
 */
export function tagiLoss(inputs: TagiLossInputs, config: Partial<TagiLossConfig> = {}): TagiLossTerms {
  const c = resolveTagiLossConfig(config);
  if (c.lambdaKl > 0 && !inputs.teacherLogits) {
    throw new DistillInputError('teacherLogits', 'teacher logits because lambdaKl > 0', 'none');
  }
  if (c.lambdaIns > 0 && (!inputs.generated || !inputs.teacherAdapters)) {
    throw new DistillInputError(inputs.generated ? 'teacherAdapters' : 'generated', 'an adapter map because lambdaIns > 0', 'none');
  }
  const ce = maskedCrossEntropy(inputs.studentLogits, inputs.labels, { ignoreIndex: c.ignoreIndex });
  const kl =
    c.lambdaKl > 0
      ? distillKl(inputs.studentLogits, inputs.teacherLogits as tf.Tensor, inputs.labels, {
          temperature: c.temperature,
          ignoreIndex: c.ignoreIndex,
        })
      : null;
  const ins = c.lambdaIns > 0 ? parameterAlignmentLoss(inputs.generated as DeltaMap, inputs.teacherAdapters as DeltaMap, { mode: c.alignment }) : null;
  const loss = tf.tidy(() => {
    let total: tf.Tensor = ce;
    if (kl) total = tf.add(total, tf.mul(kl, c.lambdaKl));
    if (ins) total = tf.add(total, tf.mul(ins, c.lambdaIns));
    return total === ce ? ce.clone() : total;
  }) as tf.Scalar;
  return { loss, ce, kl, ins };
}

/** Reads every term (synchronously) and disposes the tensors. */
export function readLossTerms(terms: TagiLossTerms): TagiLossValues {
  const read = (t: tf.Scalar | null): number | null => (t ? (t.dataSync()[0] as number) : null);
  const values = { loss: read(terms.loss) as number, ce: read(terms.ce) as number, kl: read(terms.kl), ins: read(terms.ins) };
  for (const t of [terms.loss, terms.ce, terms.kl, terms.ins]) t?.dispose();
  return values;
}
