// Public API of @tagi/eval. Browser-safe: no Node imports here (file output lives in './node').

// errors
export { EvalInputError } from './errors.js';

// SNI text metrics (rouge_score tokenizer + NLTK Porter stemmer, SQuAD-style normalisation)
export { porterStem } from './porter.js';
export { rougeTokenize, normalizeAnswer, type RougeTokenizeOptions } from './text.js';
export {
  rougeL,
  rouge1,
  exactMatch,
  rougeLPair,
  rouge1Pair,
  rougeLTokens,
  rouge1Tokens,
  lcsLength,
  type RougeScore,
  type RougeOptions,
  type RougeTokenizer,
} from './rouge.js';
export {
  computeMetrics,
  computeGroupedMetrics,
  evaluateRecords,
  sniCategoryKey,
  SNI_CATEGORY_METRIC,
  type Metrics,
  type ComputeMetricsOptions,
  type EvalRecord,
  type SniReport,
} from './metrics.js';
export { pythonRound } from './round.js';

// rank classification (scorer injected) and T0-style averaging
export {
  rankClassify,
  rankAccuracy,
  scoreChoices,
  pickChoice,
  normalizedScore,
  t0Average,
  type RankNormalization,
  type ChoiceScore,
  type ChoiceScorer,
  type RankExample,
  type RankOptions,
  type RankResult,
  type TemplateResult,
  type DatasetSummary,
  type T0Summary,
} from './rank.js';

// P3 / T0 report: accuracy per dataset × template under mean and sum scoring, median over templates
export {
  rankReport,
  summarizeRank,
  renderRankMarkdown,
  rankReportToJson,
  stringifyRankReport,
  type TemplatedRankExample,
  type RankReportOptions,
  type TemplateAccuracy,
  type DatasetAccuracy,
  type RankReport,
  type RankMarkdownOptions,
} from './rank-report.js';

// honest statistics: task-level bootstrap CIs, paired differences, several seeds
export {
  bootstrapCI,
  pairedBootstrap,
  quantileSorted,
  type BootstrapOptions,
  type PairedBootstrapOptions,
  type IntervalMethod,
  type SeedPairing,
  type Interval,
  type ScoreInterval,
  type DifferenceInterval,
} from './bootstrap.js';
export { normalCdf, normalQuantile } from './normal.js';

// cost accounting: FLOPs model and wall-clock measurement
export {
  t5ForwardFlops,
  encoderFlops,
  concatenatedInstanceFlops,
  adapterInstanceCost,
  compareInstructionCost,
  costConfigFromHf,
  type T5CostConfig,
  type LoraCost,
  type ForwardShape,
  type FlopsBreakdown,
  type InstanceLengths,
  type AdapterCostOptions,
  type AdapterCost,
  type CostComparison,
} from './cost.js';
export { timeIt, measureRelativeCost, Stopwatch, type Clock, type TimingStats, type TimeOptions, type RelativeCost } from './timer.js';

// reports (pure; file output in '@tagi/eval/node')
export {
  resultsToJson,
  resultsFromJson,
  stringifyResults,
  stableStringify,
  renderMarkdownTable,
  type ResultsColumn,
  type ResultsRow,
  type ResultsTable,
  type ResultsJson,
  type MarkdownOptions,
} from './report.js';

// the whole results summary of a run (per-instance records in; results.md / results.json version 2 out)
export {
  summarizeResults,
  renderSummaryMarkdown,
  summaryToJson,
  summaryFromJson,
  stringifySummary,
  summaryToTable,
  type ScoreRecord,
  type MethodSpec,
  type ColumnSpec,
  type ComparisonSpec,
  type SummaryOptions,
  type SummaryMetric,
  type SummaryScore,
  type SummaryDifference,
  type SummaryRow,
  type SummaryComparison,
  type SummaryColumn,
  type ResultsSummary,
  type SummaryMarkdownOptions,
} from './summary.js';

// controls: does a model read its instruction? (each task given another's, a fixed derangement)
export { fixedDerangement } from './controls.js';

// SNI's official evaluation script (references by id, tracks, missing predictions)
export { evaluateSni, sniResultKeys, type SniReference, type SniTrackResult, type SniEvaluationOptions } from './sni.js';
