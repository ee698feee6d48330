// Report writers, pure: they return strings / plain objects (file output lives in './node').
// The table has the shape of TAGI's Table 2: one row per method, one column per evaluation
// setting (e.g. SNI "Def" ROUGE-L, SNI "Def+2Pos" ROUGE-L, P3 accuracy), then relative cost
// (estimated FLOPs and/or measured wall time, relative to a reference method).

import { EvalInputError } from './errors.js';

export interface ResultsColumn {
  /** stable key used in `ResultsRow.scores` and results.json */
  readonly key: string;
  /** header text, e.g. 'SNI Def (ROUGE-L)' */
  readonly label: string;
}

export interface ResultsRow {
  readonly method: string;
  /** score per column key; missing / null renders as '–' */
  readonly scores: Readonly<Record<string, number | null | undefined>>;
  /** estimated FLOPs relative to the reference method (e.g. 0.39) */
  readonly relativeFlops?: number | null;
  /** measured wall time relative to the reference method */
  readonly relativeTime?: number | null;
}

export interface ResultsTable {
  readonly title?: string;
  readonly columns: readonly ResultsColumn[];
  readonly rows: readonly ResultsRow[];
  /** free-text lines printed under the table (what the cost is relative to, seeds, ...) */
  readonly notes?: readonly string[];
}

/** results.json as written to disk: snake_case, versioned. */
export interface ResultsJson {
  readonly format: 'tagi-results';
  readonly version: 1;
  readonly title: string | null;
  readonly columns: { key: string; label: string }[];
  readonly rows: {
    method: string;
    scores: Record<string, number | null>;
    relative_flops: number | null;
    relative_time: number | null;
  }[];
  readonly notes: string[];
  readonly meta: Record<string, unknown>;
}

function finiteOrNull(fn: string, where: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EvalInputError(fn, where, 'a finite number or null', v);
  return v;
}

function checkTable(fn: string, table: ResultsTable): void {
  if (table === null || typeof table !== 'object') throw new EvalInputError(fn, 'table', 'a ResultsTable object', table);
  if (!Array.isArray(table.columns)) throw new EvalInputError(fn, 'table.columns', 'an array of {key, label}', table.columns);
  if (!Array.isArray(table.rows)) throw new EvalInputError(fn, 'table.rows', 'an array of rows', table.rows);
  const keys = new Set<string>();
  table.columns.forEach((c, i) => {
    if (typeof c?.key !== 'string' || c.key.length === 0) throw new EvalInputError(fn, `table.columns[${i}].key`, 'a non-empty string', c?.key);
    if (typeof c.label !== 'string') throw new EvalInputError(fn, `table.columns[${i}].label`, 'a string', c.label);
    if (keys.has(c.key)) throw new EvalInputError(fn, `table.columns[${i}].key`, 'a key not used by another column', c.key);
    keys.add(c.key);
  });
  table.rows.forEach((r, i) => {
    if (typeof r?.method !== 'string') throw new EvalInputError(fn, `table.rows[${i}].method`, 'a string', r?.method);
    if (r.scores === null || typeof r.scores !== 'object') throw new EvalInputError(fn, `table.rows[${i}].scores`, 'an object', r.scores);
    for (const [k, v] of Object.entries(r.scores)) {
      if (!keys.has(k)) throw new EvalInputError(fn, `table.rows[${i}].scores.${k}`, `one of the column keys (${[...keys].join(', ')})`, k);
      finiteOrNull(fn, `table.rows[${i}].scores.${k}`, v);
    }
    finiteOrNull(fn, `table.rows[${i}].relativeFlops`, r.relativeFlops);
    finiteOrNull(fn, `table.rows[${i}].relativeTime`, r.relativeTime);
  });
}

/** The results.json object for a table (plus free-form `meta`, e.g. config, seed, date). */
export function resultsToJson(table: ResultsTable, meta: Record<string, unknown> = {}): ResultsJson {
  checkTable('resultsToJson', table);
  return {
    format: 'tagi-results',
    version: 1,
    title: table.title ?? null,
    columns: table.columns.map((c) => ({ key: c.key, label: c.label })),
    rows: table.rows.map((r) => ({
      method: r.method,
      scores: Object.fromEntries(table.columns.map((c) => [c.key, finiteOrNull('resultsToJson', c.key, r.scores[c.key])])),
      relative_flops: r.relativeFlops ?? null,
      relative_time: r.relativeTime ?? null,
    })),
    notes: [...(table.notes ?? [])],
    meta,
  };
}

/** Parses results.json back into a table (and its meta); validates every field. */
export function resultsFromJson(json: unknown): { table: ResultsTable; meta: Record<string, unknown> } {
  const fn = 'resultsFromJson';
  if (json === null || typeof json !== 'object') throw new EvalInputError(fn, 'json', 'a results.json object', json);
  const o = json as Partial<ResultsJson>;
  if (o.format !== 'tagi-results') throw new EvalInputError(fn, 'format', "'tagi-results'", o.format);
  if (o.version !== 1) {
    throw new EvalInputError(fn, 'version', (o.version as unknown) === 2 ? '1 (version 2 is a ResultsSummary: read it with summaryFromJson)' : '1', o.version);
  }
  if (!Array.isArray(o.rows)) throw new EvalInputError(fn, 'rows', 'an array', o.rows);
  const table: ResultsTable = {
    ...(typeof o.title === 'string' ? { title: o.title } : {}),
    columns: (o.columns ?? []) as ResultsColumn[],
    rows: o.rows.map((r, i) => {
      if (r === null || typeof r !== 'object') throw new EvalInputError(fn, `rows[${i}]`, 'an object', r);
      return {
        method: r.method,
        scores: r.scores,
        relativeFlops: finiteOrNull(fn, `rows[${i}].relative_flops`, r.relative_flops),
        relativeTime: finiteOrNull(fn, `rows[${i}].relative_time`, r.relative_time),
      };
    }),
    notes: Array.isArray(o.notes) ? o.notes : [],
  };
  checkTable(fn, table);
  const meta = o.meta !== null && typeof o.meta === 'object' ? (o.meta as Record<string, unknown>) : {};
  return { table, meta };
}

/** JSON with object keys sorted at every level and 2-space indent, newline-terminated: byte-stable output. */
export function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as object)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** results.json text for a table. */
export function stringifyResults(table: ResultsTable, meta: Record<string, unknown> = {}): string {
  return stableStringify(resultsToJson(table, meta));
}

export interface MarkdownOptions {
  /** decimals for scores (default 2, as in the paper) */
  readonly digits?: number;
  /** bold the best score of each column (ties all bold; default true) */
  readonly boldBest?: boolean;
  /** include the relative FLOPs column; default: when any row has one */
  readonly showFlops?: boolean;
  /** include the measured relative time column; default: when any row has one */
  readonly showTime?: boolean;
}

function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown table in the shape of TAGI's Table 2: methods × settings, then relative cost. */
export function renderMarkdownTable(table: ResultsTable, opts: MarkdownOptions = {}): string {
  checkTable('renderMarkdownTable', table);
  const digits = opts.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0 || digits > 10) {
    throw new EvalInputError('renderMarkdownTable', 'opts.digits', 'an integer in [0, 10]', digits);
  }
  const boldBest = opts.boldBest ?? true;
  const showFlops = opts.showFlops ?? table.rows.some((r) => r.relativeFlops != null);
  const showTime = opts.showTime ?? table.rows.some((r) => r.relativeTime != null);

  const best = new Map<string, number>();
  for (const c of table.columns) {
    const values = table.rows.map((r) => r.scores[c.key]).filter((v): v is number => typeof v === 'number');
    if (values.length > 0) best.set(c.key, Math.max(...values.map((v) => Number(v.toFixed(digits)))));
  }

  const header = ['Method', ...table.columns.map((c) => c.label)];
  const align = [':---', ...table.columns.map(() => '---:')];
  if (showFlops) {
    header.push('Rel. FLOPs');
    align.push('---:');
  }
  if (showTime) {
    header.push('Rel. time');
    align.push('---:');
  }
  const lines: string[] = [];
  if (table.title) lines.push(`### ${escapeCell(table.title)}`, '');
  lines.push(`| ${header.map(escapeCell).join(' | ')} |`, `| ${align.join(' | ')} |`);
  const ratio = (v: number | null | undefined): string => (v == null ? '–' : `×${v.toFixed(2)}`);
  for (const r of table.rows) {
    const cells = [escapeCell(r.method)];
    for (const c of table.columns) {
      const v = r.scores[c.key];
      if (v == null) {
        cells.push('–');
        continue;
      }
      const text = v.toFixed(digits);
      cells.push(boldBest && table.rows.length > 1 && Number(text) === best.get(c.key) ? `**${text}**` : text);
    }
    if (showFlops) cells.push(ratio(r.relativeFlops));
    if (showTime) cells.push(ratio(r.relativeTime));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (table.notes && table.notes.length > 0) {
    lines.push('');
    for (const n of table.notes) lines.push(n);
  }
  return `${lines.join('\n')}\n`;
}
