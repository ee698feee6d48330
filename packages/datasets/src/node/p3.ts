// Node file IO for P3 / T0 evaluation: promptsource templates and the public dataset files.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DatasetFieldError } from '../errors.js';
import { toHfExample, type HfExample, type P3Dataset } from '../p3.js';
import { parsePromptsourceYaml, type PromptTemplate } from '../promptsource.js';
import { parseCsv, readJsonl } from './lines.js';

/** Templates of one dataset from a promptsource checkout: `<templatesRoot>/<dataset>/templates.yaml`. */
export async function loadPromptsourceTemplates(templatesRoot: string, dataset: string): Promise<PromptTemplate[]> {
  const file = path.join(templatesRoot, ...dataset.split('/'), 'templates.yaml');
  return parsePromptsourceYaml(await readFile(file, 'utf8'), file).templates;
}

/**
 * Read a public file of a P3 evaluation dataset into HF-named examples: SuperGLUE/FewGLUE `*.jsonl`
 * (CB, COPA, RTE, WiC, WSC), ANLI `*.jsonl`, HellaSwag `hellaswag_val.jsonl`, Winogrande `dev.jsonl`,
 * StoryCloze `*.csv` (or jsonl with HF field names).
 */
export async function loadP3Examples(dataset: P3Dataset, file: string, options: { limit?: number } = {}): Promise<HfExample[]> {
  const limit = options.limit ?? Infinity;
  const out: HfExample[] = [];
  if (dataset === 'story_cloze/2016' && !/\.jsonl?(\.gz)?$/.test(file)) {
    for (const { line, row } of parseCsv(await readFile(file, 'utf8'), file)) {
      if (out.length >= limit) break;
      out.push(toHfExample(dataset, row, { file, line }));
    }
    return out;
  }
  for await (const { line, value } of readJsonl(file)) {
    if (out.length >= limit) break;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DatasetFieldError(file, '<row>', 'a JSON object', line);
    out.push(toHfExample(dataset, value as Record<string, unknown>, { file, line }));
  }
  return out;
}

/** File layout of ../shared/data/p3 (FewGLUE SuperGLUE copies and ANLI dev sets). */
export function sharedP3File(p3Root: string, dataset: P3Dataset, options: { split?: 'val' | 'train' | 'dev32'; round?: 1 | 2 | 3 } = {}): string {
  const sg: Partial<Record<P3Dataset, string>> = {
    'super_glue/cb': 'CB',
    'super_glue/copa': 'COPA',
    'super_glue/rte': 'RTE',
    'super_glue/wic': 'WiC',
    'super_glue/wsc.fixed': 'WSC',
  };
  const dir = sg[dataset];
  if (dir !== undefined) return path.join(p3Root, 'superglue', dir, `${options.split ?? 'val'}.jsonl`);
  if (dataset === 'anli') return path.join(p3Root, 'anli', `anli_r${options.round ?? 1}_dev.jsonl`);
  throw new DatasetFieldError(p3Root, 'dataset', `one of ${Object.keys(sg).join(', ')}, anli (the others are user-provided files)`);
}
