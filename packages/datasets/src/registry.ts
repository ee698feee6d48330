// Dataset registry: every dataset (embedded suite, SNI, P3, text corpora, contributed loaders) is
// reached by name through one function, so the trainer and the playground take a name + options.
import { DatasetArgumentError } from './errors.js';
import { embeddedSuite } from './embedded/suite.js';
import type { ChoiceExample, SkipReport, Task, TextDocument } from './types.js';

/** What a loader returns: instruction tasks, rank-classification examples, or a text stream. */
export type LoadedDataset =
  | { readonly kind: 'tasks'; readonly tasks: readonly Task[]; readonly heldOut?: readonly Task[]; readonly skips?: SkipReport }
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
  if (loaders.has(name) && opts.replace !== true) throw new DatasetArgumentError('name', `a name not yet registered (pass { replace: true } to override)`, name);
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
    throw new DatasetArgumentError('name', `a registered dataset (${[...loaders.keys()].sort().join(', ')}${name === 'sni' || name.startsWith('p3') || name.startsWith('text') ? "; file-based datasets are registered by '@tagi/datasets/node'" : ''})`, name);
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

registerDataset('embedded', {
  description: 'the embedded word-task suite (seeded, generated at load time): train tasks + held-out tasks',
  options: {
    seed: 'generation seed (default 0)',
    trainInstances: 'instances per training task (default 60)',
    heldOutInstances: 'instances per held-out task (default 30)',
  },
  async load(options) {
    const suite = embeddedSuite({
      seed: optNumber('embedded', options, 'seed', 0),
      trainInstances: optNumber('embedded', options, 'trainInstances', 60),
      heldOutInstances: optNumber('embedded', options, 'heldOutInstances', 30),
    });
    return { kind: 'tasks', tasks: suite.train, heldOut: suite.heldOut };
  },
});
