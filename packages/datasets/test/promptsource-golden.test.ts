// Rendered inputs, targets and answer choices must equal promptsource's own Template.apply output
// (../shared/golden/promptsource) for every dataset and template there; file rows must map to the
// same HF fields.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { choiceExamples, parseJsonl, renderTemplate, t0EvalTemplates, toHfExample, type P3Dataset, type PromptTemplate } from '../src/index.js';
import { loadP3Examples, loadPromptsourceTemplates, sharedP3File } from '../src/node.js';
import { SKIP_MESSAGE, hasShared, sharedDir } from './shared.js';

interface Row {
  dataset: string;
  promptsource_dataset: string;
  template_id: string;
  template_name: string;
  example_index: number;
  raw_fields: Record<string, unknown>;
  hf_example: Record<string, unknown>;
  rendered_input: string;
  rendered_target: string | null;
  answer_choices: string[] | null;
  gold_choice_index: number | null;
  applicable: boolean;
}

describe.skipIf(!hasShared)(`promptsource against ../shared (${hasShared ? 'present' : SKIP_MESSAGE})`, async () => {
  const golden = path.join(sharedDir, 'golden', 'promptsource');
  const templatesRoot = path.join(sharedDir, 'data', 'p3', 'promptsource', 'templates');
  const rows = hasShared ? (parseJsonl(readFileSync(path.join(golden, 'rendered.jsonl'), 'utf8'), 'rendered.jsonl') as Row[]) : [];
  const goldenTemplates = hasShared
    ? (JSON.parse(readFileSync(path.join(golden, 'templates.json'), 'utf8')) as Record<
        string,
        { jinja: string; answer_choices_expr: string | null; name: string }
      >)
    : {};
  const datasets = [...new Set(rows.map((r) => r.promptsource_dataset))];
  const templates = new Map<string, PromptTemplate>();
  for (const d of datasets) for (const t of await loadPromptsourceTemplates(templatesRoot, d)) templates.set(t.id, t);

  it('reads every golden template from the promptsource YAML with the same Jinja and choices', () => {
    expect(Object.keys(goldenTemplates).length).toBe(72);
    for (const [id, g] of Object.entries(goldenTemplates)) {
      const t = templates.get(id);
      expect(t?.name, id).toBe(g.name);
      expect(t?.jinja, id).toBe(g.jinja);
      expect(t?.answerChoices ?? null, id).toBe(g.answer_choices_expr);
    }
  });

  it('selects the same T0 evaluation templates as the golden set (original-task templates with choices)', async () => {
    for (const d of datasets) {
      const mine = t0EvalTemplates(await loadPromptsourceTemplates(templatesRoot, d))
        .map((t) => t.id)
        .sort();
      const theirs = [...new Set(rows.filter((r) => r.promptsource_dataset === d).map((r) => r.template_id))].sort();
      expect(mine, d).toEqual(theirs);
    }
  });

  it('maps file rows to the HF fields the templates expect', () => {
    for (const r of rows) {
      const hf = toHfExample(r.promptsource_dataset as P3Dataset, r.raw_fields, { file: r.dataset, line: r.example_index + 1 });
      expect(hf, `${r.dataset}#${r.example_index}`).toEqual(r.hf_example);
    }
  });

  it('renders all 870 golden rows exactly (input, target, answer choices, applicability)', () => {
    expect(rows.length).toBe(870);
    for (const r of rows) {
      const t = templates.get(r.template_id);
      if (t === undefined) throw new Error(`template ${r.template_id} not loaded`);
      const out = renderTemplate(t, r.hf_example);
      const where = `${r.dataset} / ${r.template_name} #${r.example_index}`;
      expect(out.input, where).toBe(r.rendered_input);
      expect(out.target, where).toBe(r.rendered_target);
      expect(out.answerChoices ?? null, where).toEqual(r.answer_choices);
      expect(out.applicable, where).toBe(r.applicable);
    }
  });

  it('turns rendered rows into choice examples with the golden gold index and counts skips', async () => {
    const copa = await loadP3Examples('super_glue/copa', sharedP3File(path.join(sharedDir, 'data', 'p3'), 'super_glue/copa'), { limit: 10 });
    for (const t of [...templates.values()].filter((x) => x.dataset === 'super_glue/copa')) {
      const { examples, skips } = choiceExamples(t, copa);
      const g = rows.filter((r) => r.template_id === t.id);
      expect(examples.length + skips.skipped).toBe(10);
      expect(skips.skipped).toBe(g.filter((r) => !r.applicable).length);
      const applicable = g.filter((r) => r.applicable);
      expect(examples.map((e) => e.label)).toEqual(applicable.map((r) => r.gold_choice_index));
      expect(examples.map((e) => e.input)).toEqual(applicable.map((r) => r.rendered_input));
    }
  });

  it('loads ANLI rounds 1-3 and the SuperGLUE validation files', async () => {
    const p3 = path.join(sharedDir, 'data', 'p3');
    const sizes: [P3Dataset, number, (1 | 2 | 3)?][] = [
      ['super_glue/cb', 56],
      ['super_glue/copa', 100],
      ['super_glue/rte', 277],
      ['super_glue/wic', 638],
      ['super_glue/wsc.fixed', 104],
      ['anli', 1000, 1],
      ['anli', 1000, 2],
      ['anli', 1198, 3],
    ];
    for (const [d, n, round] of sizes) {
      const ex = await loadP3Examples(d, sharedP3File(p3, d, round === undefined ? {} : { round }));
      expect(ex.length, d).toBe(n);
    }
    const anli = [...templates.values()].filter((t) => t.dataset === 'anli');
    expect(t0EvalTemplates(anli).length).toBeGreaterThan(0);
  });

  it('renders every T0 held-out template of HellaSwag, Winogrande and StoryCloze on public-format rows', async () => {
    const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src', '__fixtures__', 'p3');
    const cases: [P3Dataset, string][] = [
      ['hellaswag', 'hellaswag_val.jsonl'],
      ['winogrande/winogrande_xl', 'winogrande_dev.jsonl'],
      ['story_cloze/2016', 'story_cloze_val.csv'],
    ];
    for (const [d, f] of cases) {
      const ts = await loadPromptsourceTemplates(templatesRoot, d);
      expect(ts.length, d).toBeGreaterThan(4);
      const examples = await loadP3Examples(d, path.join(fixtures, f));
      for (const t of ts)
        for (const ex of examples) {
          const r = renderTemplate(t, ex);
          expect(r.input.length, `${d}/${t.name}`).toBeGreaterThan(0);
          if (r.answerChoices !== undefined) expect(r.answerChoices, `${d}/${t.name}`).toContain(r.target);
        }
      const evalSet = t0EvalTemplates(ts);
      const { examples: choice, skips } = choiceExamples(evalSet[0] as PromptTemplate, examples);
      expect(choice.length + skips.skipped).toBe(examples.length);
    }
  });
});
