// File-based datasets, registered with the registry when '@tagi/datasets/node' is used:
// "sni", "p3", "text-jsonl", "text-plain" and the example contributed loader "jsonl-task".
import { DatasetArgumentError } from '../errors.js';
import { choiceExamples, t0EvalTemplates, type P3Dataset } from '../p3.js';
import { getDatasetLoader, optEnum, optNumber, optString, registerDataset, type DatasetLoader } from '../registry.js';
import { sampleInstances, sniTestInstances } from '../sni.js';
import type { ChoiceExample, Task } from '../types.js';
import { jsonlTaskLoader } from './loaders/jsonl-task.js';
import { loadP3Examples, loadPromptsourceTemplates, sharedP3File } from './p3.js';
import { loadSniTasks, readSniSplit } from './sni.js';
import { jsonlCorpus, plainTextCorpus } from './text.js';

const P3_DATASETS: readonly P3Dataset[] = [
  'super_glue/cb',
  'super_glue/copa',
  'super_glue/rte',
  'super_glue/wic',
  'super_glue/wsc.fixed',
  'anli',
  'hellaswag',
  'winogrande/winogrande_xl',
  'story_cloze/2016',
];

const sni: DatasetLoader = {
  description: 'Super-NaturalInstructions task files of an official split (test: first 100 instances; train: seeded cap)',
  options: {
    root: 'directory holding tasks/ and splits/ (natural-instructions layout)',
    split: '"train" or "test" (default "test")',
    splitName: 'split directory under splits/ (default "default")',
    maxInstances: 'training cap per task (default 100, as TAGI/Tk-Instruct)',
    seed: 'seed of the training cap (default 42)',
    skipMissing: 'skip split tasks whose file is absent, reporting them (default false)',
  },
  async load(o) {
    const root = optString('sni', o, 'root');
    const split = optEnum('sni', o, 'split', ['train', 'test'] as const, 'test');
    const names = await readSniSplit(root, split, optString('sni', o, 'splitName', 'default'));
    const { tasks, missing } = await loadSniTasks(root, { names, skipMissing: o.skipMissing === true });
    const max = optNumber('sni', o, 'maxInstances', 100);
    const seed = optNumber('sni', o, 'seed', 42);
    const selected: Task[] = tasks.map((t) => ({ ...t, instances: split === 'test' ? sniTestInstances(t) : sampleInstances(t, max, seed) }));
    return {
      kind: 'tasks',
      tasks: selected,
      skips: { skipped: missing.length, reasons: (missing.length === 0 ? {} : { 'task file not found': missing.length }) as Record<string, number> },
    };
  },
};

const p3: DatasetLoader = {
  description: 'a P3/T0 evaluation dataset rendered with its promptsource templates into choice examples',
  options: {
    dataset: `one of ${P3_DATASETS.join(', ')}`,
    templatesRoot: 'promptsource templates directory (…/promptsource/templates)',
    file: 'data file in the public format (default: the file under p3Root)',
    p3Root: 'root of the shared P3 files (superglue/, anli/) used when file is absent',
    round: 'ANLI round 1-3 (default 1)',
    templates: '"t0" (original-task templates with answer choices, default) or "all"',
    limit: 'read at most this many rows',
    seed: 'seed of the choice filter (default 0)',
  },
  async load(o) {
    const dataset = optEnum('p3', o, 'dataset', P3_DATASETS, 'super_glue/cb');
    const file =
      o.file === undefined
        ? sharedP3File(optString('p3', o, 'p3Root'), dataset, { round: optNumber('p3', o, 'round', 1) as 1 | 2 | 3 })
        : optString('p3', o, 'file');
    const rows = await loadP3Examples(dataset, file, o.limit === undefined ? {} : { limit: optNumber('p3', o, 'limit') });
    const all = await loadPromptsourceTemplates(optString('p3', o, 'templatesRoot'), dataset);
    const which = optEnum('p3', o, 'templates', ['t0', 'all'] as const, 't0');
    const templates = which === 't0' ? t0EvalTemplates(all) : all.filter((t) => t.answerChoices !== undefined);
    const examples: ChoiceExample[] = [];
    const reasons: Record<string, number> = {};
    let skipped = 0;
    for (const t of templates) {
      const r = choiceExamples(t, rows, { seed: optNumber('p3', o, 'seed', 0) });
      examples.push(...r.examples);
      skipped += r.skips.skipped;
      for (const [k, v] of Object.entries(r.skips.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
    }
    return { kind: 'choices', examples, skips: { skipped, reasons } };
  },
};

const textJsonl: DatasetLoader = {
  description: 'a streamed jsonl text corpus ({"text": …}, C4 layout)',
  options: {
    file: 'path of the .jsonl file',
    field: 'text field (default "text")',
    onInvalid: '"error" (default) or "skip" (counted)',
    limit: 'stop after this many documents',
  },
  async load(o) {
    return {
      kind: 'text',
      documents: jsonlCorpus(optString('text-jsonl', o, 'file'), {
        field: optString('text-jsonl', o, 'field', 'text'),
        onInvalid: optEnum('text-jsonl', o, 'onInvalid', ['error', 'skip'] as const, 'error'),
        ...(o.limit === undefined ? {} : { limit: optNumber('text-jsonl', o, 'limit') }),
      }),
    };
  },
};

const textPlain: DatasetLoader = {
  description: 'a streamed plain-text corpus (paragraphs or lines)',
  options: { file: 'path of the text file', unit: '"paragraph" (default) or "line"', limit: 'stop after this many documents' },
  async load(o) {
    return {
      kind: 'text',
      documents: plainTextCorpus(optString('text-plain', o, 'file'), {
        unit: optEnum('text-plain', o, 'unit', ['paragraph', 'line'] as const, 'paragraph'),
        ...(o.limit === undefined ? {} : { limit: optNumber('text-plain', o, 'limit') }),
      }),
    };
  },
};

const NODE_DATASETS: Record<string, DatasetLoader> = {
  sni,
  p3,
  'text-jsonl': textJsonl,
  'text-plain': textPlain,
  'jsonl-task': jsonlTaskLoader,
};

/** Register the file-based datasets (idempotent). Called by this entry's `loadDataset`. */
export function registerNodeDatasets(): void {
  for (const [name, loader] of Object.entries(NODE_DATASETS)) {
    const existing = getDatasetLoader(name);
    if (existing === undefined) registerDataset(name, loader);
    else if (existing !== loader) throw new DatasetArgumentError('name', 'a name not used by a built-in file dataset', name);
  }
}
