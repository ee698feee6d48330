// A run's results.json as the Training page shows it, read with @tagi/eval's own readers: version 2
// (`summaryFromJson`: per method and column the mean with its bootstrap CI, seen and held-out columns,
// paired differences) and version 1 (`resultsFromJson`: a plain table of point estimates). A trainer
// may also embed a version-2 summary in its own results.json (under any top-level key); other JSON with
// a list of rows (the trainer's `methods`) is shown as a plain table. Nothing is invented or dropped
// silently: a results.json that claims a version and does not hold to it is reported with the reader's
// message naming the field.
import { type ResultsSummary, type ResultsTable, resultsFromJson, summaryFromJson } from '@tagi/eval';

export type ResultsView =
  | { readonly kind: 'none' }
  /** format 'tagi-results' version 2; `at` names where it was found ('' = the whole file). */
  | { readonly kind: 'summary'; readonly summary: ResultsSummary; readonly at: string }
  /** format 'tagi-results' version 1 */
  | { readonly kind: 'table'; readonly table: ResultsTable }
  /** any other JSON holding a list of row objects (e.g. the trainer's `methods`) */
  | { readonly kind: 'rows'; readonly rows: readonly Record<string, unknown>[]; readonly at: string }
  | { readonly kind: 'invalid'; readonly message: string };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isTagiResults = (v: unknown): v is Record<string, unknown> => isObject(v) && v['format'] === 'tagi-results';

function fromTagiResults(json: Record<string, unknown>, at: string, file: string): ResultsView {
  try {
    if (json['version'] === 2) return { kind: 'summary', summary: summaryFromJson(json).summary, at };
    if (json['version'] === 1) return { kind: 'table', table: resultsFromJson(json).table };
  } catch (e) {
    return { kind: 'invalid', message: `${file}${at ? ` (${at})` : ''}: ${(e as Error).message}` };
  }
  return {
    kind: 'invalid',
    message: `${file}${at ? ` (${at})` : ''}: format 'tagi-results' version ${JSON.stringify(json['version'])}; this playground reads versions 1 and 2`,
  };
}

/** How to show a parsed results.json (undefined: there is none). */
export function resultsView(json: unknown, file = 'results.json'): ResultsView {
  if (json === undefined) return { kind: 'none' };
  if (isTagiResults(json)) return fromTagiResults(json, '', file);
  if (isObject(json)) {
    // a trainer's own results.json with the summary embedded under one of its keys
    for (const [key, v] of Object.entries(json)) if (isTagiResults(v)) return fromTagiResults(v, key, file);
  }
  const rowsAt = (v: unknown): readonly Record<string, unknown>[] | undefined => (Array.isArray(v) && v.length > 0 && v.every(isObject) ? v : undefined);
  if (rowsAt(json)) return { kind: 'rows', rows: rowsAt(json)!, at: '' };
  if (isObject(json)) {
    for (const key of ['methods', 'rows']) {
      const rows = rowsAt(json[key]);
      if (rows) return { kind: 'rows', rows, at: key };
    }
  }
  return { kind: 'invalid', message: `${file}: neither a 'tagi-results' file (version 1 or 2) nor a list of result rows` };
}
