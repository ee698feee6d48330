// P3 / T0-style rank-classification report: accuracy per dataset and prompt template under both
// scorings (mean and summed log-likelihood), the per-dataset mean and median over templates (T0
// reports the median over prompts), and their averages over datasets; printable as Markdown.
//
// One scoring pass serves both normalisations: the scorer returns each choice's summed
// log-likelihood and token count, and 'mean' vs 'sum' only changes how those are compared.

import { EvalInputError } from './errors.js';
import { checkLabel, rankAccuracy, scoreChoices, type ChoiceScorer, type RankExample, type RankNormalization } from './rank.js';
import { stableStringify } from './report.js';

/** A rank-classification example of one dataset rendered with one template (datasets' `ChoiceExample`). */
export interface TemplatedRankExample extends Omit<RankExample, 'label'> {
  readonly dataset: string;
  readonly template: string;
  /** gold choice index, several indices, or -1 for an unlabelled example (skipped and counted) */
  readonly label: number | readonly number[];
}

export interface RankReportOptions {
  /** scorings to report; default ['mean', 'sum'] */
  readonly normalizations?: readonly RankNormalization[];
  /** examples per scorer call; default 16 */
  readonly batchSize?: number;
}

type ByNorm = Readonly<Partial<Record<RankNormalization, number>>>;

/** Accuracy (×100) of one template on one dataset, per scoring. */
export interface TemplateAccuracy {
  readonly dataset: string;
  readonly template: string;
  /** labelled examples scored */
  readonly count: number;
  readonly accuracy: ByNorm;
}

export interface DatasetAccuracy {
  readonly dataset: string;
  readonly templates: number;
  /** labelled examples over all templates */
  readonly count: number;
  /** mean over templates, per scoring */
  readonly mean: ByNorm;
  /** median over templates, per scoring (T0's reported number) */
  readonly median: ByNorm;
}

export interface RankReport {
  readonly normalizations: readonly RankNormalization[];
  /** per (dataset, template), datasets and templates in first-seen order */
  readonly templates: readonly TemplateAccuracy[];
  readonly datasets: readonly DatasetAccuracy[];
  /** averages over datasets of the per-dataset mean and median */
  readonly average: { readonly mean: ByNorm; readonly median: ByNorm };
  /** examples not scored: unlabelled (label -1), per dataset */
  readonly skipped: { readonly unlabelled: number; readonly byDataset: Readonly<Record<string, number>> };
}

function checkNormalizations(fn: string, v: unknown): RankNormalization[] {
  if (!Array.isArray(v) || v.length === 0 || v.some((n) => n !== 'mean' && n !== 'sum') || new Set(v).size !== v.length) {
    throw new EvalInputError(fn, 'opts.normalizations', "a non-empty list of distinct 'mean' | 'sum'", v);
  }
  return v as RankNormalization[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const average = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Rank classification of templated examples (e.g. P3 / T0 held-out sets): scores every labelled
 * example once and reports accuracy per dataset × template under each scoring, with the mean and
 * median over templates. Unlabelled examples (label -1) are skipped and counted.
 */
export async function rankReport(examples: readonly TemplatedRankExample[], scorer: ChoiceScorer, opts: RankReportOptions = {}): Promise<RankReport> {
  const fn = 'rankReport';
  const normalizations = checkNormalizations(fn, opts.normalizations ?? ['mean', 'sum']);
  if (!Array.isArray(examples) || examples.length === 0) {
    throw new EvalInputError(fn, 'examples', 'a non-empty array of {input, choices, label, dataset, template}', examples);
  }
  const labelled: { example: TemplatedRankExample; label: readonly number[] }[] = [];
  const skippedBy: Record<string, number> = {};
  let unlabelled = 0;
  examples.forEach((e, i) => {
    if (e === null || typeof e !== 'object') throw new EvalInputError(fn, `examples[${i}]`, 'an object', e);
    if (typeof e.dataset !== 'string' || e.dataset.length === 0) throw new EvalInputError(fn, `examples[${i}].dataset`, 'a non-empty dataset name', e.dataset);
    if (typeof e.template !== 'string' || e.template.length === 0)
      throw new EvalInputError(fn, `examples[${i}].template`, 'a non-empty template name', e.template);
    if (!Array.isArray(e.choices) || e.choices.length === 0) throw new EvalInputError(fn, `examples[${i}].choices`, 'a non-empty array of strings', e.choices);
    if (e.label === -1) {
      unlabelled++;
      skippedBy[e.dataset] = (skippedBy[e.dataset] ?? 0) + 1;
      return;
    }
    labelled.push({ example: e, label: checkLabel(fn, `examples[${i}].label`, e.label, e.choices.length) });
  });
  if (labelled.length === 0) throw new EvalInputError(fn, 'examples', 'at least one labelled example (label -1 means unlabelled)', examples);
  const scores = await scoreChoices(
    labelled.map((l) => l.example),
    scorer,
    { batchSize: opts.batchSize, fn },
  );

  // group by dataset, then template, in first-seen order
  const groups = new Map<string, Map<string, number[]>>();
  labelled.forEach((l, i) => {
    const byTemplate = groups.get(l.example.dataset) ?? new Map<string, number[]>();
    groups.set(l.example.dataset, byTemplate);
    const list = byTemplate.get(l.example.template) ?? [];
    list.push(i);
    byTemplate.set(l.example.template, list);
  });
  const templates: TemplateAccuracy[] = [];
  for (const [dataset, byTemplate] of groups) {
    for (const [template, idx] of byTemplate) {
      const accuracy = Object.fromEntries(
        normalizations.map((n) => [
          n,
          rankAccuracy(
            idx.map((i) => scores[i] as never),
            idx.map((i) => (labelled[i] as { label: readonly number[] }).label),
            n,
          ).accuracy,
        ]),
      );
      templates.push({ dataset, template, count: idx.length, accuracy });
    }
  }
  const report = summarizeRank(templates, { normalizations });
  return { ...report, skipped: { unlabelled, byDataset: skippedBy } };
}

/**
 * The report from accuracies computed elsewhere: per dataset the mean and median over its templates,
 * then the averages over datasets. Every template must report every requested scoring.
 */
export function summarizeRank(results: readonly TemplateAccuracy[], opts: { normalizations?: readonly RankNormalization[] } = {}): RankReport {
  const fn = 'summarizeRank';
  const normalizations = checkNormalizations(fn, opts.normalizations ?? ['mean', 'sum']);
  if (!Array.isArray(results) || results.length === 0) throw new EvalInputError(fn, 'results', 'at least one {dataset, template, count, accuracy}', results);
  const seen = new Set<string>();
  const byDataset = new Map<string, TemplateAccuracy[]>();
  results.forEach((r, i) => {
    if (typeof r?.dataset !== 'string' || r.dataset.length === 0) throw new EvalInputError(fn, `results[${i}].dataset`, 'a non-empty string', r?.dataset);
    if (typeof r.template !== 'string' || r.template.length === 0) throw new EvalInputError(fn, `results[${i}].template`, 'a non-empty string', r.template);
    if (!Number.isInteger(r.count) || r.count < 1) throw new EvalInputError(fn, `results[${i}].count`, 'a positive integer', r.count);
    const key = `${r.dataset}\u0000${r.template}`;
    if (seen.has(key)) throw new EvalInputError(fn, `results[${i}].template`, `a template listed once per dataset ('${r.dataset}')`, r.template);
    seen.add(key);
    for (const n of normalizations) {
      const a = r.accuracy?.[n];
      if (typeof a !== 'number' || !(a >= 0 && a <= 100)) throw new EvalInputError(fn, `results[${i}].accuracy.${n}`, 'an accuracy in [0, 100]', a);
    }
    const list = byDataset.get(r.dataset) ?? [];
    list.push(r);
    byDataset.set(r.dataset, list);
  });
  const pick = (rs: readonly TemplateAccuracy[], n: RankNormalization): number[] => rs.map((r) => r.accuracy[n] as number);
  const datasets: DatasetAccuracy[] = [...byDataset].map(([dataset, rs]) => ({
    dataset,
    templates: rs.length,
    count: rs.reduce((s, r) => s + r.count, 0),
    mean: Object.fromEntries(normalizations.map((n) => [n, average(pick(rs, n))])),
    median: Object.fromEntries(normalizations.map((n) => [n, median(pick(rs, n))])),
  }));
  return {
    normalizations,
    templates: results.map((r) => ({
      dataset: r.dataset,
      template: r.template,
      count: r.count,
      accuracy: Object.fromEntries(normalizations.map((n) => [n, r.accuracy[n] as number])),
    })),
    datasets,
    average: {
      mean: Object.fromEntries(normalizations.map((n) => [n, average(datasets.map((d) => d.mean[n] as number))])),
      median: Object.fromEntries(normalizations.map((n) => [n, average(datasets.map((d) => d.median[n] as number))])),
    },
    skipped: { unlabelled: 0, byDataset: {} },
  };
}

export interface RankMarkdownOptions {
  /** decimals; default 1 */
  readonly digits?: number;
  /** heading; default 'Rank classification accuracy (%)' */
  readonly title?: string;
  /** include the per-template table; default true */
  readonly templates?: boolean;
}

const NORM_LABEL: Record<RankNormalization, string> = { mean: 'mean log-lik.', sum: 'sum log-lik.' };

function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The report as Markdown: per-dataset summary (median and mean over templates), then per template. */
export function renderRankMarkdown(report: RankReport, opts: RankMarkdownOptions = {}): string {
  const fn = 'renderRankMarkdown';
  if (report === null || typeof report !== 'object' || !Array.isArray(report.datasets) || !Array.isArray(report.templates)) {
    throw new EvalInputError(fn, 'report', 'a RankReport (from rankReport or summarizeRank)', report);
  }
  const digits = opts.digits ?? 1;
  if (!Number.isInteger(digits) || digits < 0 || digits > 10) throw new EvalInputError(fn, 'opts.digits', 'an integer in [0, 10]', digits);
  const f = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(digits));
  const norms = report.normalizations;
  const lines = [`### ${escapeCell(opts.title ?? 'Rank classification accuracy (%)')}`, ''];
  const head = ['Dataset', 'Templates', 'Examples', ...norms.map((n) => `Median (${NORM_LABEL[n]})`), ...norms.map((n) => `Mean (${NORM_LABEL[n]})`)];
  lines.push(
    `| ${head.join(' | ')} |`,
    `| :--- | ${head
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  );
  for (const d of report.datasets) {
    lines.push(
      `| ${[escapeCell(d.dataset), String(d.templates), String(d.count), ...norms.map((n) => f(d.median[n])), ...norms.map((n) => f(d.mean[n]))].join(' | ')} |`,
    );
  }
  if (report.datasets.length > 1) {
    lines.push(
      `| ${[`**Average over ${report.datasets.length} datasets**`, '', '', ...norms.map((n) => `**${f(report.average.median[n])}**`), ...norms.map((n) => `**${f(report.average.mean[n])}**`)].join(' | ')} |`,
    );
  }
  if (opts.templates ?? true) {
    lines.push(
      '',
      `| Dataset | Template | Examples | ${norms.map((n) => `Acc. (${NORM_LABEL[n]})`).join(' | ')} |`,
      `| :--- | :--- | ---: | ${norms.map(() => '---:').join(' | ')} |`,
    );
    for (const t of report.templates) {
      lines.push(`| ${[escapeCell(t.dataset), escapeCell(t.template), String(t.count), ...norms.map((n) => f(t.accuracy[n]))].join(' | ')} |`);
    }
  }
  lines.push(
    '',
    "- Prediction: the answer choice with the highest score, ties to the first. 'mean log-lik.' divides a choice's summed target log-likelihood by its token count (TAGI); 'sum log-lik.' does not (T0 / t5x rank classification).",
    "- Median and mean over a dataset's templates (T0 reports the median over prompts); the average row is the plain mean over datasets.",
  );
  if (report.skipped.unlabelled > 0) {
    const by = Object.entries(report.skipped.byDataset)
      .map(([d, n]) => `${d}: ${n}`)
      .join(', ');
    lines.push(`- Skipped ${report.skipped.unlabelled} unlabelled example(s) (${by}).`);
  }
  return `${lines.join('\n')}\n`;
}

/** JSON of a report: snake_case keys, format 'tagi-rank-results', version 1. */
export function rankReportToJson(report: RankReport, meta: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    format: 'tagi-rank-results',
    version: 1,
    normalizations: [...report.normalizations],
    templates: report.templates.map((t) => ({ dataset: t.dataset, template: t.template, count: t.count, accuracy: { ...t.accuracy } })),
    datasets: report.datasets.map((d) => ({ dataset: d.dataset, templates: d.templates, count: d.count, mean: { ...d.mean }, median: { ...d.median } })),
    average: { mean: { ...report.average.mean }, median: { ...report.average.median } },
    skipped: { unlabelled: report.skipped.unlabelled, by_dataset: { ...report.skipped.byDataset } },
    meta,
  };
}

/** The report's JSON text (sorted keys, 2-space indent). */
export function stringifyRankReport(report: RankReport, meta: Record<string, unknown> = {}): string {
  return stableStringify(rankReportToJson(report, meta));
}
