// Scores of a model's answers against the expected outputs of the suite's examples, with SNI's metrics
// from @tagi/eval (the ones `tagi demo` reports), so the page can mark each answer right or wrong.
// No Node imports: the in-page runner scores its answers with the same function.
import { exactMatch, rougeL } from '@tagi/eval';

export interface AnswerScore {
  /** 100 when the normalised answer equals a normalised reference, else 0 (SNI exact match). */
  readonly exactMatch: number;
  /** 100 × the best ROUGE-L F-measure over the references (SNI ROUGE-L). */
  readonly rougeL: number;
}

/** Per answer its scores, or null where no reference is known (a line the user typed). */
export function scoreAnswers(outputs: readonly string[], references: readonly (readonly string[] | null)[]): (AnswerScore | null)[] {
  return outputs.map((out, i) => {
    const refs = references[i];
    return refs && refs.length > 0 ? { exactMatch: exactMatch(out, refs), rougeL: rougeL(out, refs) } : null;
  });
}
