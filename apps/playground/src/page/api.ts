// The page's side of the playground's JSON API: one fetch helper and the shapes the server answers,
// named from the server's own types (type-only imports: nothing of the server is bundled).
import type { AdapterDiffModule, GeneratedAdapterInfo, ModelRunResult, ModelSetInfo, SuiteExample } from '../engine-types';
import type { RunArtifactInfo, RunDetails, RunSummary } from '../runs';
import type { InPageDescription } from '../web/tagi-browser';

export interface RunsAnswer {
  readonly roots: readonly { readonly dir: string; readonly display: string }[];
  readonly runs: readonly (RunSummary & { readonly display: string })[];
}
export type OpenAnswer = ModelSetInfo;
export type RunDirAnswer = RunDetails & { readonly display: string; readonly artifacts: readonly (RunArtifactInfo & { readonly display: string })[] };
export interface ExamplesAnswer {
  readonly examples: SuiteExample[];
  readonly numPositive: number;
}
export type GenerateAnswer = GeneratedAdapterInfo;
export interface RunAnswer {
  readonly results: readonly ModelRunResult[];
  readonly warnings?: readonly string[];
}
export interface DiffAnswer {
  readonly modules: readonly AdapterDiffModule[];
}
/** GET /api/in-page: what the page needs to run a dir's TAGI model itself (`bundle`: the runner's URL). */
export type InPageAnswer = (InPageDescription & { readonly bundle: string }) | { readonly available: false; readonly reason: string };

/** A GET (no body) or a JSON POST; a non-2xx answer becomes an Error with the server's `type: message`. */
export async function api<T>(url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${res.status} ${res.statusText}: ${text.slice(0, 300)}`);
  }
  if (!res.ok) {
    const error = (json as { error?: { type?: string; message?: string } } | null)?.error;
    const e = error ?? { type: 'Error', message: text };
    throw new Error(`${e.type}: ${e.message}`);
  }
  return json as T;
}
