// results.json, the scores of a run: the one shape written today and every older one still read, each named.
//
//   current   format 'tagi-results' version 2 (@tagi/eval's `summaryToJson`: per method and column the mean
//             with its task-level bootstrap CI, seen and held-out columns, paired differences), the run's
//             facts under `meta`; written by `writeResultsJson` (node.ts), sorted keys.
//   older:
//   - 'table'     format 'tagi-results' version 1 (@tagi/eval's `resultsToJson`): a plain table of point
//                 estimates, no CIs.
//   - 'embedded'  a trainer's own file with a version-2 summary under one top-level key (view kind
//                 'summary', `at` = that key).
//   - 'rows'      a trainer's plain list of rows (its `methods`, or a bare list): shown as they are.
//
// Nothing is invented or dropped silently: a results.json that claims a version and does not hold to it
// is reported with @tagi/eval's message naming the field.
import { RUN_FILES } from './files.js';
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

/** A results.json that cannot be read in the shape asked for; the message names the file, then the field. */
export class ResultsFileError extends Error {
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super(`${file}: ${fault}`);
    this.name = 'ResultsFileError';
  }
}

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

/** What a parsed results.json holds, in which of the shapes above (undefined: there is none). */
export function resultsView(json: unknown, file: string = RUN_FILES.results): ResultsView {
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
