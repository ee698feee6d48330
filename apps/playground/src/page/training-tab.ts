// The Training page: the run's artefacts by role, one chart per metric (and stage family) from
// metrics.jsonl, and its results. Also fills the Adapter page's list of the run's peft adapters.
import type { MetricsRecord } from '../runs';
import { type RunDirAnswer, api } from './api';
import { type Point, lineChart } from './charts';
import { byId, el, selectEl } from './dom';
import { errorText } from './feedback';
import { renderResults } from './results-tables';

/** Keys of a metrics record that are a position in time, never a curve of their own. */
const NOT_A_CURVE = new Set(['step', 'global_step', 'epoch', 'time', 'timestamp', 'elapsed', 'elapsed_s', 'wall_s', 'totalSteps', 'at', 'tokensPerSec']);

/** The run's peft adapters by role (trainer_state.json): the stage-1 teachers and the multitask baseline. */
function listPeftAdapters(run: RunDirAnswer): void {
  const peft = selectEl('peft-select');
  peft.textContent = '';
  for (const a of run.artifacts.filter((x) => x.kind === 'peft')) {
    peft.append(el('option', { value: a.dir, 'data-role': a.role, 'data-name': a.name ?? '' }, a.name ? `${a.role} ${a.name}` : a.role));
  }
  if (peft.options.length === 0) peft.append(el('option', { value: '' }, '(no peft adapter in this run)'));
}

function describeRun(run: RunDirAnswer): string {
  const roles: Record<string, number> = {};
  for (const a of run.artifacts) roles[a.role] = (roles[a.role] ?? 0) + 1;
  return (
    `${run.display}: ${run.metrics.length} metric records, ` +
    (run.runState
      ? `artefacts unknown (${run.runState})`
      : `${run.artifacts.length} artefacts by role (${Object.entries(roles)
          .map(([k, n]) => (n > 1 ? `${n} × ${k}` : k))
          .join(', ')})`)
  );
}

/**
 * One chart per numeric key and stage family; one series per value of the string labels (e.g. the
 * stage): chart key → series name → points.
 */
export function metricCharts(metrics: readonly MetricsRecord[]): Map<string, Map<string, Point[]>> {
  const byKey = new Map<string, Map<string, Point[]>>();
  metrics.forEach((m, i) => {
    // events (checkpoints, stage ends) are not points of a curve
    if (m.labels['event'] !== undefined || (m.values['step'] !== undefined && m.values['step'] < 0)) return;
    const x = m.values['step'] ?? m.values['global_step'] ?? m.values['epoch'] ?? i;
    const series =
      Object.entries(m.labels)
        .filter(([k]) => !/time|date|ts$|message/i.test(k))
        .map(([, v]) => v)
        .join(' / ') || 'run';
    // one chart per metric and stage family ('teachers/<category> (i/n)' → 'teachers', 'hypernet-tagi' →
    // 'hypernet'), so the scales stay readable; the stages of a family are its lines
    const family = (m.labels['stage'] ?? '').split(/[/ -]/)[0] || '';
    for (const [k, v] of Object.entries(m.values)) {
      if (NOT_A_CURVE.has(k)) continue;
      const chartKey = family ? `${k} · ${family}` : k;
      let chart = byKey.get(chartKey);
      if (!chart) byKey.set(chartKey, (chart = new Map()));
      let points = chart.get(series);
      if (!points) chart.set(series, (points = []));
      points.push([x, v]);
    }
  });
  return byKey;
}

export async function loadTraining(dir: string): Promise<void> {
  const charts = byId('training-charts');
  charts.textContent = '';
  byId('results').textContent = '';
  let run: RunDirAnswer;
  try {
    run = await api<RunDirAnswer>(`/api/run?dir=${encodeURIComponent(dir)}`);
  } catch (e) {
    byId('training-info').textContent = `No training data: ${errorText(e)}`;
    return;
  }
  listPeftAdapters(run);
  byId('training-info').textContent = describeRun(run);
  const byKey = metricCharts(run.metrics);
  for (const [key, series] of byKey)
    charts.append(
      lineChart(
        key,
        [...series].map(([name, points]) => ({ name, points })),
      ),
    );
  if (byKey.size === 0) charts.append(el('div', { class: 'note' }, 'metrics.jsonl is absent or empty.'));
  renderResults(run.resultsView, run.resultsMarkdown);
}
