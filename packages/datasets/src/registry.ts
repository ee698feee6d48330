// Dataset registry: every dataset (embedded suite, SNI, P3, text corpora, contributed loaders) is
// reached by name through one function, so the trainer and the playground take a name + options.
import { DatasetArgumentError } from './errors.js';
import { DEFAULT_EMBEDDED_SUITE, EMBEDDED_SUITES, embeddedSuite, type EmbeddedSuite, type EmbeddedSuiteName } from './embedded/suite.js';
import type { PretrainingPair } from './embedded/compositional/suite.js';
import type { ChoiceExample, SkipReport, Task, TextDocument } from './types.js';

/** What a loader returns: instruction tasks, rank-classification examples, or a text stream. */
export type LoadedDataset =
  | {
      readonly kind: 'tasks';
      readonly tasks: readonly Task[];
      readonly heldOut?: readonly Task[];
      readonly skips?: SkipReport;
      /** Fresh evaluation instances of the training tasks (seen-task scores), when the dataset has them. */
      readonly seenEval?: readonly Task[];
      /** Base-model pretraining documents from the training tasks only, when the dataset provides them. */
      readonly pretrainingText?: readonly string[];
      /** Instruction-free (input → target) base-pretraining pairs from training inputs only, when the dataset provides them. */
      readonly pretrainingPairs?: readonly PretrainingPair[];
    }
  | { readonly kind: 'choices'; readonly examples: readonly ChoiceExample[]; readonly skips: SkipReport }
  | { readonly kind: 'text'; readonly documents: AsyncIterable<TextDocument> & { readonly skips: SkipReport } };

export type DatasetOptions = Readonly<Record<string, unknown>>;

export interface DatasetLoader {
  /** One line for listings and CLI help. */
  readonly description: string;
  /** Option name → one line of help (shown by `tagi` and checked: unknown options are rejected). */
  readonly options: Readonly<Record<string, string>>;
  load(options: DatasetOptions): Promise<LoadedDataset>;
}

const loaders = new Map<string, DatasetLoader>();

/** Register a loader under `name` (lower-case, digits, "-", "_", "/"). Re-registering needs `replace`. */
export function registerDataset(name: string, loader: DatasetLoader, opts: { replace?: boolean } = {}): void {
  if (!/^[a-z0-9][a-z0-9_/-]*$/.test(name)) throw new DatasetArgumentError('name', 'lower-case letters, digits, "-", "_" or "/"', name);
  if (loaders.has(name) && opts.replace !== true)
    throw new DatasetArgumentError('name', `a name not yet registered (pass { replace: true } to override)`, name);
  loaders.set(name, loader);
}

export function listDatasets(): { name: string; description: string; options: Readonly<Record<string, string>> }[] {
  return [...loaders].map(([name, l]) => ({ name, description: l.description, options: l.options })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function getDatasetLoader(name: string): DatasetLoader | undefined {
  return loaders.get(name);
}

/** Load a registered dataset. Unknown names and unknown options are errors that list what exists. */
export async function loadDataset(name: string, options: DatasetOptions = {}): Promise<LoadedDataset> {
  const loader = loaders.get(name);
  if (loader === undefined) {
    throw new DatasetArgumentError(
      'name',
      `a registered dataset (${[...loaders.keys()].sort().join(', ')}${name === 'sni' || name.startsWith('p3') || name.startsWith('text') ? "; file-based datasets are registered by '@tagi/datasets/node'" : ''})`,
      name,
    );
  }
  for (const k of Object.keys(options)) {
    if (!(k in loader.options)) throw new DatasetArgumentError(`${name}.${k}`, `one of the options ${Object.keys(loader.options).join(', ')}`, options[k]);
  }
  return loader.load(options);
}

// ---------------------------------------------------------------------------------------------
// option readers for loaders (they name the option in errors)

export function optNumber(name: string, options: DatasetOptions, key: string, fallback?: number): number {
  const v = options[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new DatasetArgumentError(`${name}.${key}`, 'a number', v);
  return v;
}
export function optString(name: string, options: DatasetOptions, key: string, fallback?: string): string {
  const v = options[key] ?? fallback;
  if (typeof v !== 'string' || v === '') throw new DatasetArgumentError(`${name}.${key}`, 'a non-empty string', v);
  return v;
}
export function optEnum<T extends string>(name: string, options: DatasetOptions, key: string, allowed: readonly T[], fallback: T): T {
  const v = options[key] ?? fallback;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new DatasetArgumentError(`${name}.${key}`, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

const EMBEDDED_OPTIONS = {
  seed: 'generation seed (default 0)',
  trainInstances: 'instances per training task (default 256; compositional-v1: 64; lexical-v1: 60)',
  heldOutInstances: 'instances per held-out task (default 32; compositional-v1: 24; lexical-v1: 30)',
  seenEvalInstances: 'fresh instances per training task for seen-task evaluation (default 16; compositional suites only)',
} as const;

function loadEmbedded(registryName: string, name: EmbeddedSuiteName, options: DatasetOptions): LoadedDataset {
  const num = (key: string, fallback?: number): number | undefined =>
    options[key] === undefined && fallback === undefined ? undefined : optNumber(registryName, options, key, fallback);
  const suite = embeddedSuite({
    name,
    seed: num('seed', 0),
    trainInstances: num('trainInstances'),
    heldOutInstances: num('heldOutInstances'),
    seenEvalInstances: num('seenEvalInstances'),
  });
  const extra = suite as EmbeddedSuite & { seenEval?: readonly Task[]; pretrainingText?: readonly string[]; pretrainingPairs?: readonly PretrainingPair[] };
  return {
    kind: 'tasks',
    tasks: suite.train,
    heldOut: suite.heldOut,
    ...(extra.seenEval === undefined ? {} : { seenEval: extra.seenEval }),
    ...(extra.pretrainingText === undefined ? {} : { pretrainingText: extra.pretrainingText }),
    ...(extra.pretrainingPairs === undefined ? {} : { pretrainingPairs: extra.pretrainingPairs }),
  };
}

registerDataset('embedded', {
  description: `an embedded word-task suite (seeded, generated at load time): train tasks + held-out tasks; name: ${EMBEDDED_SUITES.join(' | ')} (default ${DEFAULT_EMBEDDED_SUITE})`,
  options: { name: `which suite: ${EMBEDDED_SUITES.join(', ')} (default ${DEFAULT_EMBEDDED_SUITE})`, ...EMBEDDED_OPTIONS },
  async load(options) {
    return loadEmbedded('embedded', optEnum('embedded', options, 'name', EMBEDDED_SUITES, DEFAULT_EMBEDDED_SUITE), options);
  },
});
registerDataset('compositional-v2', {
  description:
    'the compositional embedded suite (operation x argument task families, 153 held-out combinations and a held-out family, seen-task evaluation instances, base-pretraining text)',
  options: EMBEDDED_OPTIONS,
  async load(options) {
    return loadEmbedded('compositional-v2', 'compositional-v2', options);
  },
});
registerDataset('compositional-v1', {
  description: 'the first compositional suite (47 held-out combinations), kept so runs made with it still load and compare',
  options: EMBEDDED_OPTIONS,
  async load(options) {
    return loadEmbedded('compositional-v1', 'compositional-v1', options);
  },
});
registerDataset('lexical-v1', {
  description: 'the first embedded suite (258 word-level tasks in 32 categories), kept so runs made with it still load',
  options: EMBEDDED_OPTIONS,
  async load(options) {
    return loadEmbedded('lexical-v1', 'lexical-v1', options);
  },
});
