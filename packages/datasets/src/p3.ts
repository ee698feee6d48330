// P3 / T0 evaluation data: map rows of the public file formats to the HF field names promptsource's
// templates expect, and turn rendered templates into rank-classification examples.
import { DatasetFieldError } from './errors.js';
import { renderTemplate, type PromptTemplate, type RenderOptions } from './promptsource.js';
import type { ChoiceExample, SkipReport } from './types.js';

/** An example with HF dataset field names (the template's variables). */
export type HfExample = Record<string, unknown>;

/** Where a row came from, for errors. */
export interface RowSource {
  readonly file: string;
  readonly line: number;
}

function field(row: Record<string, unknown>, key: string, kind: 'string' | 'number' | 'boolean', src: RowSource): never | string | number | boolean {
  const v = row[key];
  if (typeof v !== kind) throw new DatasetFieldError(src.file, key, `a ${kind}`, src.line);
  return v as string | number | boolean;
}
function optionalLabel(row: Record<string, unknown>, names: readonly string[] | undefined, src: RowSource): number {
  const v = row.label;
  if (v === undefined || v === null) return -1;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && names !== undefined) {
    const i = names.indexOf(v);
    if (i >= 0) return i;
  }
  throw new DatasetFieldError(src.file, 'label', names === undefined ? 'a number or boolean' : `one of ${names.join(', ')}`, src.line);
}

/** The P3 evaluation datasets this package reads, by promptsource dataset name. */
export type P3Dataset =
  | 'super_glue/cb'
  | 'super_glue/copa'
  | 'super_glue/rte'
  | 'super_glue/wic'
  | 'super_glue/wsc.fixed'
  | 'anli'
  | 'hellaswag'
  | 'winogrande/winogrande_xl'
  | 'story_cloze/2016';

const CB_LABELS = ['entailment', 'contradiction', 'neutral'];
const RTE_LABELS = ['entailment', 'not_entailment'];

/**
 * Map one row of a public file to HF field names:
 * SuperGLUE/FewGLUE jsonl (CB, COPA, RTE, WiC, WSC), ANLI jsonl, HellaSwag jsonl (rowan zellers'
 * release), Winogrande jsonl, StoryCloze csv rows (already split into named columns).
 */
export function toHfExample(dataset: P3Dataset, row: Record<string, unknown>, src: RowSource): HfExample {
  const s = (k: string) => field(row, k, 'string', src) as string;
  const n = (k: string) => field(row, k, 'number', src) as number;
  switch (dataset) {
    case 'super_glue/cb':
      return { premise: s('premise'), hypothesis: s('hypothesis'), idx: n('idx'), label: optionalLabel(row, CB_LABELS, src) };
    case 'super_glue/rte':
      return { premise: s('premise'), hypothesis: s('hypothesis'), idx: n('idx'), label: optionalLabel(row, RTE_LABELS, src) };
    case 'super_glue/copa':
      return {
        premise: s('premise'),
        choice1: s('choice1'),
        choice2: s('choice2'),
        question: s('question'),
        idx: n('idx'),
        label: optionalLabel(row, undefined, src),
      };
    case 'super_glue/wic':
      return {
        word: s('word'),
        sentence1: s('sentence1'),
        sentence2: s('sentence2'),
        start1: n('start1'),
        start2: n('start2'),
        end1: n('end1'),
        end2: n('end2'),
        idx: n('idx'),
        label: optionalLabel(row, undefined, src),
      };
    case 'super_glue/wsc.fixed': {
      const t = row.target;
      if (t === null || typeof t !== 'object')
        throw new DatasetFieldError(src.file, 'target', 'an object with span1_index, span2_index, span1_text, span2_text', src.line);
      const target = t as Record<string, unknown>;
      const tn = (k: string) => field(target, k, 'number', { ...src, file: src.file }) as number;
      const ts = (k: string) => field(target, k, 'string', src) as string;
      return {
        text: s('text'),
        span1_index: tn('span1_index'),
        span2_index: tn('span2_index'),
        span1_text: ts('span1_text'),
        span2_text: ts('span2_text'),
        idx: n('idx'),
        label: optionalLabel(row, undefined, src),
      };
    }
    case 'anli':
      return {
        uid: s('uid'),
        premise: s('premise'),
        hypothesis: s('hypothesis'),
        label: optionalLabel(row, undefined, src),
        reason: typeof row.reason === 'string' ? row.reason : '',
      };
    case 'hellaswag': {
      const endings = row.endings;
      if (!Array.isArray(endings) || !endings.every((e) => typeof e === 'string'))
        throw new DatasetFieldError(src.file, 'endings', 'a list of strings', src.line);
      // HF's hellaswag stores the label as a string ("" when unlabelled); the templates cast it with |int.
      const label = row.label === undefined || row.label === null || row.label === '' ? '' : String(row.label);
      return {
        ind: row.ind ?? null,
        activity_label: s('activity_label'),
        ctx_a: s('ctx_a'),
        ctx_b: s('ctx_b'),
        ctx: s('ctx'),
        endings,
        source_id: row.source_id ?? '',
        split: row.split ?? '',
        split_type: row.split_type ?? '',
        label,
      };
    }
    case 'winogrande/winogrande_xl':
      return { sentence: s('sentence'), option1: s('option1'), option2: s('option2'), answer: row.answer === undefined ? '' : String(row.answer) };
    case 'story_cloze/2016': {
      // Rows already in HF's layout (e.g. exported jsonl) pass through.
      if (typeof row.input_sentence_1 === 'string') {
        return {
          story_id: s('story_id'),
          input_sentence_1: s('input_sentence_1'),
          input_sentence_2: s('input_sentence_2'),
          input_sentence_3: s('input_sentence_3'),
          input_sentence_4: s('input_sentence_4'),
          sentence_quiz1: s('sentence_quiz1'),
          sentence_quiz2: s('sentence_quiz2'),
          answer_right_ending: typeof row.answer_right_ending === 'number' ? row.answer_right_ending : -1,
        };
      }
      // Columns of the public csv (cloze_test_val__spring2016): InputStoryid, InputSentence1-4,
      // RandomFifthSentenceQuiz1/2, AnswerRightEnding.
      const ans = row.AnswerRightEnding;
      return {
        story_id: s('InputStoryid'),
        input_sentence_1: s('InputSentence1'),
        input_sentence_2: s('InputSentence2'),
        input_sentence_3: s('InputSentence3'),
        input_sentence_4: s('InputSentence4'),
        sentence_quiz1: s('RandomFifthSentenceQuiz1'),
        sentence_quiz2: s('RandomFifthSentenceQuiz2'),
        answer_right_ending: ans === undefined || ans === '' ? -1 : Number(ans),
      };
    }
  }
}

/** T0's held-out evaluation datasets (Sanh et al. 2022), with the promptsource templates directory. */
export const T0_HELD_OUT: readonly { readonly dataset: P3Dataset; readonly templates: string; readonly task: string }[] = [
  { dataset: 'super_glue/rte', templates: 'super_glue/rte', task: 'natural language inference' },
  { dataset: 'super_glue/cb', templates: 'super_glue/cb', task: 'natural language inference' },
  { dataset: 'anli', templates: 'anli', task: 'natural language inference' },
  { dataset: 'super_glue/copa', templates: 'super_glue/copa', task: 'sentence completion' },
  { dataset: 'hellaswag', templates: 'hellaswag', task: 'sentence completion' },
  { dataset: 'story_cloze/2016', templates: 'story_cloze/2016', task: 'sentence completion' },
  { dataset: 'winogrande/winogrande_xl', templates: 'winogrande/winogrande_xl', task: 'coreference resolution' },
  { dataset: 'super_glue/wsc.fixed', templates: 'super_glue/wsc.fixed', task: 'coreference resolution' },
  { dataset: 'super_glue/wic', templates: 'super_glue/wic', task: 'word sense disambiguation' },
];

/** T0 evaluates only templates of the original task (metadata `original_task: true`) with answer choices. */
export function t0EvalTemplates(templates: readonly PromptTemplate[]): PromptTemplate[] {
  return templates.filter((t) => t.originalTask === true && t.answerChoices !== undefined);
}

/**
 * Render `template` over `examples` into rank-classification examples. Examples the template does not
 * apply to (empty input, no choices) are skipped and counted in `skips`, never silently dropped.
 */
export function choiceExamples(
  template: PromptTemplate,
  examples: readonly HfExample[],
  options: RenderOptions & { readonly idPrefix?: string } = {},
): { examples: ChoiceExample[]; skips: SkipReport } {
  const out: ChoiceExample[] = [];
  const reasons: Record<string, number> = {};
  const skip = (why: string) => {
    reasons[why] = (reasons[why] ?? 0) + 1;
  };
  examples.forEach((ex, i) => {
    const r = renderTemplate(template, ex, options);
    if (!r.applicable) return skip('template not applicable (empty input or no target part)');
    if (r.answerChoices === undefined) return skip('template has no answer choices');
    const label = r.target === null || r.target === '' ? -1 : r.answerChoices.indexOf(r.target);
    if (r.target !== null && r.target !== '' && label < 0) return skip('target is not among the answer choices');
    out.push({
      id: `${options.idPrefix ?? template.dataset}/${template.id}/${i}`,
      input: r.input,
      choices: r.answerChoices,
      label,
      dataset: template.dataset,
      template: template.name,
    });
  });
  const skipped = Object.values(reasons).reduce((a, b) => a + b, 0);
  return { examples: out, skips: { skipped, reasons } };
}
