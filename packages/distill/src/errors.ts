/**
 * A loss received an input it cannot use. `argument` names the offending argument (for example
 * `labels` or `teacher['encoder.block.0.layer.0.SelfAttention.q'].A`) and the message says what was
 * expected instead.
 */
export class DistillInputError extends Error {
  override readonly name = 'DistillInputError';
  constructor(
    readonly argument: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${argument}: expected ${expected}, got ${got}`);
  }
}
