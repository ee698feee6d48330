// Node-only file output for @tagi/eval (import from '@tagi/eval/node').
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EvalInputError } from './errors.js';
import { renderMarkdownTable, resultsFromJson, stringifyResults, type MarkdownOptions, type ResultsTable } from './report.js';
import { renderRankMarkdown, stringifyRankReport, type RankMarkdownOptions, type RankReport } from './rank-report.js';
import { renderSummaryMarkdown, stringifySummary, summaryFromJson, type ResultsSummary, type SummaryMarkdownOptions } from './summary.js';

/** Writes `text` to `file` atomically: a temp file in the same directory, then rename. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  await fs.writeFile(tmp, text, 'utf8');
  await fs.rename(tmp, file);
}

/** The one body of the report writers: `<base>.json` and `<base>.md` into `dir` (created if missing), each atomically. */
async function writeReport(dir: string, base: string, json: string, markdown: string): Promise<{ json: string; markdown: string }> {
  await fs.mkdir(dir, { recursive: true });
  const jsonPath = path.join(dir, `${base}.json`);
  const mdPath = path.join(dir, `${base}.md`);
  await writeFileAtomic(jsonPath, json);
  await writeFileAtomic(mdPath, markdown);
  return { json: jsonPath, markdown: mdPath };
}

/** Writes `results.json` and `results.md` into `dir` (created if missing). */
export async function writeResults(
  dir: string,
  table: ResultsTable,
  opts: { meta?: Record<string, unknown>; markdown?: MarkdownOptions } = {},
): Promise<{ json: string; markdown: string }> {
  if (typeof dir !== 'string' || dir.length === 0) throw new EvalInputError('writeResults', 'dir', 'a directory path', dir);
  return writeReport(dir, 'results', stringifyResults(table, opts.meta ?? {}), renderMarkdownTable(table, opts.markdown ?? {}));
}

/** Reads and validates a results.json file. */
export async function readResults(file: string): Promise<{ table: ResultsTable; meta: Record<string, unknown> }> {
  const text = await fs.readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new EvalInputError('readResults', file, 'valid JSON', (e as Error).message);
  }
  return resultsFromJson(parsed);
}

/**
 * Writes a summary (from `summarizeResults`) as `results.json` (version 2) and `results.md` into `dir`
 * (created if missing), atomically.
 */
export async function writeSummary(
  dir: string,
  summary: ResultsSummary,
  opts: { meta?: Record<string, unknown>; markdown?: SummaryMarkdownOptions } = {},
): Promise<{ json: string; markdown: string }> {
  if (typeof dir !== 'string' || dir.length === 0) throw new EvalInputError('writeSummary', 'dir', 'a directory path', dir);
  return writeReport(dir, 'results', stringifySummary(summary, opts.meta ?? {}), renderSummaryMarkdown(summary, opts.markdown ?? {}));
}

/** Reads and validates a version-2 results.json (a summary). */
export async function readSummary(file: string): Promise<{ summary: ResultsSummary; meta: Record<string, unknown> }> {
  return summaryFromJson(await readJson('readSummary', file));
}

/**
 * Writes a rank-classification report as `<basename>.json` and `<basename>.md` into `dir`
 * (default basename 'rank_results'), atomically.
 */
export async function writeRankReport(
  dir: string,
  report: RankReport,
  opts: { basename?: string; meta?: Record<string, unknown>; markdown?: RankMarkdownOptions } = {},
): Promise<{ json: string; markdown: string }> {
  if (typeof dir !== 'string' || dir.length === 0) throw new EvalInputError('writeRankReport', 'dir', 'a directory path', dir);
  const base = opts.basename ?? 'rank_results';
  if (typeof base !== 'string' || !/^[\w.-]+$/.test(base))
    throw new EvalInputError('writeRankReport', 'opts.basename', 'a file name without directories', base);
  return writeReport(dir, base, stringifyRankReport(report, opts.meta ?? {}), renderRankMarkdown(report, opts.markdown ?? {}));
}

async function readJson(fn: string, file: string): Promise<unknown> {
  const text = await fs.readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new EvalInputError(fn, file, 'valid JSON', (e as Error).message);
  }
}
