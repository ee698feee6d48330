import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DatasetFieldError, DatasetParseError, TemplateFieldError } from './errors.js';
import { loadP3Examples, parseCsv } from './node.js';
import { choiceExamples } from './p3.js';
import { parsePromptsourceYaml, renderTemplate, type PromptTemplate } from './promptsource.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'p3');
const tpl = (jinja: string, answerChoices?: string): PromptTemplate => ({
  id: 'id-1',
  name: 'fixture template',
  jinja,
  dataset: 'fixture',
  ...(answerChoices === undefined ? {} : { answerChoices }),
});

describe('renderTemplate', () => {
  it('splits on |||, strips parts and renders answer choices as a template', () => {
    const r = renderTemplate(tpl('{{premise}} True or {{ "false" }}?  |||  {{ answer_choices[label] }} ', '{{ yes }} ||| No'), {
      premise: 'Sky is blue.',
      label: 0,
      yes: 'Yes',
    });
    expect(r).toEqual({ input: 'Sky is blue. True or false?', target: 'Yes', answerChoices: ['Yes', 'No'], applicable: true });
  });

  it('protects a literal ||| inside field values', () => {
    const r = renderTemplate(tpl('{{a}} ||| {{b}}'), { a: 'x ||| y', b: 'z' });
    expect(r.input).toBe('x ||| y');
    expect(r.target).toBe('z');
  });

  it('keeps Python Jinja whitespace (no trim_blocks): a newline after a block tag stays', () => {
    const r = renderTemplate(tpl('{% if a %}\nA{% endif %}\nB ||| t'), { a: true });
    expect(r.input).toBe('A\nB');
  });

  it('names the template and the field when an example lacks a field', () => {
    const err = (() => {
      try {
        renderTemplate(tpl('{{premise}} {{hypothesis}} ||| x'), { premise: 'p' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TemplateFieldError);
    expect((err as TemplateFieldError).field).toBe('hypothesis');
    expect((err as TemplateFieldError).template).toBe('fixture/fixture template');
  });

  it("implements promptsource's choice filter, seeded and drawn from the list", () => {
    const t = tpl('{% set i = [0, 1, 2, 3] | choice %}{{ endings[i] }} ||| x');
    const ex = { endings: ['a', 'b', 'c', 'd'] };
    const seen = new Set<string>();
    for (let s = 0; s < 40; s++) seen.add(renderTemplate(t, ex, { seed: s }).input);
    expect([...seen].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(renderTemplate(t, ex, { seed: 3 }).input).toBe(renderTemplate(t, ex, { seed: 3 }).input);
    expect(renderTemplate(tpl('{{ xs | most_frequent }} ||| x'), { xs: ['a', 'b', 'b'] }).input).toBe('b');
  });
});

describe('promptsource YAML', () => {
  it('reads !Template / !TemplateMetadata tags and names missing fields', () => {
    const yaml = `dataset: demo\nsubset: sub\ntemplates:\n  abc: !Template\n    answer_choices: Yes ||| No\n    id: abc\n    jinja: '{{q}} ||| {{answer_choices[label]}}'\n    metadata: !TemplateMetadata\n      original_task: true\n      choices_in_prompt: false\n      metrics:\n      - Accuracy\n    name: first\n    reference: ''\n`;
    const { dataset, templates } = parsePromptsourceYaml(yaml, 'demo.yaml');
    expect(dataset).toBe('demo/sub');
    expect(templates).toEqual([
      {
        id: 'abc',
        name: 'first',
        jinja: '{{q}} ||| {{answer_choices[label]}}',
        dataset: 'demo/sub',
        answerChoices: 'Yes ||| No',
        originalTask: true,
        choicesInPrompt: false,
        metrics: ['Accuracy'],
        reference: '',
      },
    ]);
    expect(() => parsePromptsourceYaml('dataset: d\ntemplates:\n  a: !Template\n    name: x\n', 'bad.yaml')).toThrow(/bad\.yaml: field "templates\.a\.jinja"/);
    expect(() => parsePromptsourceYaml('dataset: [unclosed', 'broken.yaml')).toThrow(DatasetParseError);
  });
});

describe('P3 file loaders', () => {
  it('reads HellaSwag, Winogrande and StoryCloze public formats into HF fields', async () => {
    const hs = await loadP3Examples('hellaswag', path.join(fixtures, 'hellaswag_val.jsonl'));
    expect(hs.length).toBe(2);
    expect(hs[0]).toMatchObject({ ctx: 'A woman dips a brush into a can of paint. she', label: '3', activity_label: 'Painting a fence' });
    const t = tpl('{{ctx}}... ||| {{answer_choices[label | int()]}}', '{{endings | join("|||")}}');
    const { examples } = choiceExamples(t, hs);
    expect(examples[0]?.choices.length).toBe(4);
    expect(examples[0]?.label).toBe(3);

    const wg = await loadP3Examples('winogrande/winogrande_xl', path.join(fixtures, 'winogrande_dev.jsonl'));
    expect(wg.map((e) => e.answer)).toEqual(['1', '2']);

    const sc = await loadP3Examples('story_cloze/2016', path.join(fixtures, 'story_cloze_val.csv'));
    expect(sc.length).toBe(2);
    const scHf = await loadP3Examples('story_cloze/2016', path.join(fixtures, 'story_cloze_hf.jsonl'));
    expect(scHf[0]).toMatchObject({ story_id: 'fixture-0003', sentence_quiz1: 'Kim found her keys.', answer_right_ending: 1 });
    expect(sc[1]).toMatchObject({ input_sentence_3: 'The seedlings grew tall, "green" and strong.', answer_right_ending: 2 });
  });

  it('reports a malformed jsonl line with file and line, and a missing field by name', async () => {
    const bad = path.join(fixtures, 'cb_malformed.jsonl');
    const e1 = await loadP3Examples('super_glue/cb', bad).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DatasetParseError);
    expect(String(e1)).toContain('cb_malformed.jsonl:2');
    const e2 = await loadP3Examples('super_glue/cb', path.join(fixtures, 'cb_missing.jsonl')).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(DatasetFieldError);
    expect(String(e2)).toMatch(/cb_missing\.jsonl:1: field "hypothesis"/);
  });

  it('rejects a CSV row with the wrong number of columns', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', 'x.csv')).toThrow(/x\.csv:3/);
  });
});
