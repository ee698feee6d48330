// A run's results.json on the Training page, in each shape the server reads it as (@tagi/run-dir's resultsView):
// version 2 (means with CIs, paired differences), version 1 (a table), plain rows, or why it is invalid.
import type { ResultsSummary, SummaryDifference, SummaryMetric, SummaryScore } from '@tagi/eval';
import type { ResultsView } from '@tagi/run-dir';
import { byId, el, fmt } from './dom';

type Row = Readonly<Record<string, unknown>>;

/** A plain table of result rows (results.json version 1, or rows of another shape such as the trainer's `methods`). */
function rowsTable(rows: readonly Row[], id: string): HTMLTableElement {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => {
    const v = rows.find((r) => r[c] !== undefined)?.[c];
    return typeof v !== 'object' || v === null;
  });
  const first = rows[0] ?? {};
  cols.sort((a, b) => Number(typeof first[a] === 'number') - Number(typeof first[b] === 'number'));
  const table = el('table', { id });
  const head = el('tr');
  cols.forEach((c) => head.append(el('th', {}, c)));
  table.append(head);
  for (const r of rows) {
    const tr = el('tr');
    cols.forEach((c) => {
      const v = r[c];
      tr.append(el('td', {}, typeof v === 'number' ? fmt(v) : String(v ?? '')));
    });
    table.append(tr);
  }
  return table;
}

const METRIC_LABELS: Readonly<Record<string, string>> = { rougeL: 'ROUGE-L', exactMatch: 'Exact match' };

/** A bootstrap p-value as results.md prints it: 0 means "below the resolution 1/resamples", shown as a bound. */
function pText(p: number, resamples: number): string {
  if (p === 0) {
    const v = 1 / resamples;
    const step = 10 ** (Math.floor(Math.log10(v)) - 1);
    return `p < ${Number((Math.ceil(v / step - 1e-9) * step).toPrecision(2))}`;
  }
  return `p = ${p < 0.001 ? p.toPrecision(1) : p.toFixed(3)}`;
}

const num = (v: number): string => v.toFixed(1);
const signed = (v: number): string => `${v > 0 || Object.is(v, 0) ? '+' : ''}${num(v)}`;
/** An estimate with its CI, as results.md prints it. */
const withCi = (s: SummaryScore | SummaryDifference, show: (v: number) => string): string =>
  s.lo === null || s.hi === null ? `${show(s.estimate)} (no CI: < 2 tasks)` : `${show(s.estimate)} [${num(s.lo)}, ${num(s.hi)}]`;

/** Per metric one table of the methods' means with their CIs, one column per split group. */
function meansTable(summary: ResultsSummary, metric: SummaryMetric, headers: readonly string[]): HTMLTableElement {
  const rows = [...summary.rows.filter((r) => r.kind === 'method'), ...summary.rows.filter((r) => r.kind !== 'method')];
  const showFlops = rows.some((r) => r.relativeFlops !== null);
  const showTime = rows.some((r) => r.relativeTime !== null);
  const table = el('table', { class: 'results-ci', 'data-metric': metric });
  const head = el('tr');
  for (const h of ['Method', 'Seeds', ...headers, ...(showFlops ? ['Rel. FLOPs'] : []), ...(showTime ? ['Rel. time'] : [])]) head.append(el('th', {}, h));
  table.append(head);
  for (const r of rows) {
    const tr = el('tr', { 'data-method': r.method });
    tr.append(el('td', {}, r.kind === 'method' ? r.label : `${r.label} (reference)`), el('td', {}, r.seeds.length === 0 ? '–' : String(r.seeds.length)));
    for (const c of summary.columns) {
      const s = r.scores[c.key]?.[metric];
      tr.append(
        s
          ? el('td', { 'data-column': c.key, 'data-estimate': s.estimate, 'data-lo': s.lo ?? '', 'data-hi': s.hi ?? '' }, withCi(s, num))
          : el('td', { 'data-column': c.key }, r.reason ? 'unavailable' : '–'),
      );
    }
    if (showFlops) tr.append(el('td', {}, r.relativeFlops === null ? '–' : `×${r.relativeFlops.toFixed(2)}`));
    if (showTime) tr.append(el('td', {}, r.relativeTime === null ? '–' : `×${r.relativeTime.toFixed(2)}`));
    table.append(tr);
  }
  return table;
}

/** Per metric one table of the paired differences A − B, with their CIs and p-values. */
function differencesTable(summary: ResultsSummary, metric: SummaryMetric, headers: readonly string[]): HTMLTableElement {
  const table = el('table', { class: 'results-diff', 'data-metric': metric });
  const head = el('tr');
  for (const h of ['Comparison', ...headers]) head.append(el('th', {}, h));
  table.append(head);
  for (const d of summary.differences) {
    const tr = el('tr', { 'data-a': d.a, 'data-b': d.b });
    tr.append(el('td', {}, d.label));
    for (const c of summary.columns) {
      const s = d.scores[c.key]?.[metric];
      tr.append(
        s
          ? el(
              'td',
              { 'data-column': c.key, 'data-estimate': s.estimate },
              `${withCi(s, signed)}${s.pValue === null ? '' : `, ${pText(s.pValue, summary.config.resamples)}`}`,
            )
          : el('td', {}, '–'),
      );
    }
    table.append(tr);
  }
  return table;
}

/**
 * results.json version 2 (@tagi/eval's ResultsSummary): per metric one table of means with their CIs
 * (one column per split group: seen and held-out), the paired differences, and the notes.
 */
function summaryTables(summary: ResultsSummary): HTMLElement {
  const box = el('div', { id: 'results-summary' });
  const pct = `${Math.round(summary.config.level * 1000) / 10}%`;
  const headers = summary.columns.map((c) => `${c.label} (${c.tasks} task${c.tasks === 1 ? '' : 's'}, ${c.instances} instances)`);
  if (summary.title) box.append(el('h4', {}, summary.title));
  for (const metric of summary.config.metrics) {
    const label = METRIC_LABELS[metric] ?? metric;
    box.append(el('div', { class: 'note' }, `${label}: mean and ${pct} CI [lo, hi] from a task-level bootstrap (${summary.config.resamples} resamples)`));
    box.append(meansTable(summary, metric, headers));
  }
  if (summary.differences.length > 0) {
    for (const metric of summary.config.metrics) {
      const label = METRIC_LABELS[metric] ?? metric;
      box.append(
        el('div', { class: 'note' }, `Paired differences, ${label}: A − B on the same resampled tasks, ${pct} CI; p = share of resamples with A − B ≤ 0`),
      );
      box.append(differencesTable(summary, metric, headers));
    }
  }
  const notes = [...summary.rows.filter((r) => r.reason).map((r) => `${r.label}: ${r.reason}`), ...summary.notes];
  for (const n of notes) box.append(el('div', { class: 'note' }, n));
  return box;
}

export function renderResults(view: ResultsView, markdown: string | undefined): void {
  const box = byId('results');
  if (view.kind === 'summary') box.append(summaryTables(view.summary));
  else if (view.kind === 'table') {
    const t = view.table;
    const rows = t.rows.map((r) => ({
      method: r.method,
      ...Object.fromEntries(t.columns.map((c) => [c.label, r.scores[c.key] ?? null])),
      'rel. FLOPs': r.relativeFlops ?? null,
      'rel. time': r.relativeTime ?? null,
    }));
    box.append(rowsTable(rows, 'results-table'));
    for (const n of t.notes ?? []) box.append(el('div', { class: 'note' }, n));
  } else if (view.kind === 'rows') box.append(rowsTable(view.rows, 'results-table'));
  else if (view.kind === 'invalid') box.append(el('div', { class: 'note results-invalid' }, view.message));
  if (markdown) box.append(el('pre', { id: 'results-md' }, markdown));
  if (view.kind === 'none' && !markdown) box.append(el('div', { class: 'note' }, 'No results.json / results.md in this run dir.'));
}
