// @ts-check
// The playground page: plain DOM + SVG, no framework. Model work happens in the Node server; this page
// sends JSON and draws what comes back. Only the "also run TAGI in this browser" option runs a model
// here: it loads the in-page runner bundle (/web/tagi-browser.js) on demand.

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const SVG_NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/**
 * @type {{ dir: string, info: any, adapter: any, adapterB: any, examples: any[], expected: Map<string, string[]>,
 *          expectedFor: string, example: any, inPage: { dir: string, runner: any } | null }}
 */
const state = { dir: '', info: null, adapter: null, adapterB: null, examples: [], expected: new Map(), expectedFor: '', example: null, inPage: null };

// ---------------------------------------------------------------- API and errors

function showError(/** @type {string} */ message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = false;
}
function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

/**
 * The cuts the run's length policy made (the instruction's, the inputs'), shown above the outputs: the
 * models read the cut texts, as training did.
 * @param {string[]} warnings
 */
function showWarnings(warnings) {
  const box = $('warnings');
  box.textContent = '';
  for (const w of warnings) box.append(el('div', { class: 'warning-line' }, `⚠ ${w}`));
  box.hidden = warnings.length === 0;
}

/**
 * @param {string} url
 * @param {unknown} [body]
 */
async function api(url, body) {
  const res = await fetch(url, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${res.status} ${res.statusText}: ${text.slice(0, 300)}`);
  }
  if (!res.ok) {
    const e = json && json.error ? json.error : { type: 'Error', message: text };
    throw new Error(`${e.type}: ${e.message}`);
  }
  return json;
}

/** @param {() => Promise<void>} fn */
async function busy(fn) {
  clearError();
  $('busy').hidden = false;
  document.querySelectorAll('button').forEach((b) => b.setAttribute('data-busy', '1'));
  try {
    await fn();
  } catch (e) {
    showError(e instanceof Error ? e.message : String(e));
  } finally {
    $('busy').hidden = true;
    document.querySelectorAll('button').forEach((b) => b.removeAttribute('data-busy'));
  }
}

/**
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {string} [text]
 */
function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
/**
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {string} [text]
 */
function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---------------------------------------------------------------- charts (SVG)

/** @param {number} v */
function fmt(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Math.round(v * 1000) / 1000);
}

/**
 * Line chart of one or more series of [x, y] points.
 * @param {string} title
 * @param {{ name: string, points: [number, number][] }[]} series
 */
function lineChart(title, series) {
  const W = 360, H = 220, L = 48, R = 10, T = 10, B = 30;
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { const pad = Math.abs(y0) * 0.1 || 1; y0 -= pad; y1 += pad; }
  const sx = (/** @type {number} */ x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (/** @type {number} */ y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const box = el('div', { class: 'chart', 'data-chart': title });
  box.append(el('h4', {}, title));
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  svg.append(svgEl('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#999' }), svgEl('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#999' }));
  svg.append(svgEl("text", { x: 2, y: H - B }, fmt(y0)), svgEl("text", { x: 2, y: T + 8 }, fmt(y1)));
  svg.append(svgEl('text', { x: L, y: H - 12 }, fmt(x0)), svgEl('text', { x: W - R - 30, y: H - 12 }, fmt(x1)));
  // many series (one per teacher): the first ones in colour with a legend, the rest thin and grey
  const LEGEND = 7;
  series.forEach((s, i) => {
    const color = i < LEGEND ? COLORS[i % COLORS.length] ?? '#000' : '#b8bfcc';
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    if (s.points.length === 1) {
      const p = /** @type {[number, number]} */ (s.points[0]);
      svg.append(svgEl('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 3, fill: color }));
    } else svg.append(svgEl('path', { d, fill: 'none', stroke: color, 'stroke-width': i < LEGEND ? 1.5 : 0.75 }));
    if (series.length > 1 && i < LEGEND) svg.append(svgEl('text', { x: W - R - 110, y: T + 10 + 12 * i, style: `fill:${color}` }, s.name.length > 20 ? `${s.name.slice(0, 19)}…` : s.name));
  });
  if (series.length > LEGEND) svg.append(svgEl('text', { x: W - R - 110, y: T + 10 + 12 * LEGEND, style: 'fill:#8a93a6' }, `+ ${series.length - LEGEND} more (grey)`));
  box.append(svg);
  return box;
}

/**
 * Horizontal bar chart.
 * @param {string} title
 * @param {string[]} labels
 * @param {number[][]} valueSets one array per colour
 * @param {string[]} [legend]
 */
function barChart(title, labels, valueSets, legend = []) {
  const rowH = 14 * valueSets.length + 4, L = 250, W = 620, T = legend.length ? 18 : 4;
  const H = T + rowH * labels.length + 6;
  const max = Math.max(1e-12, ...valueSets.flat().map((v) => Math.abs(v)));
  const box = el('div', { class: 'chart', 'data-chart': title });
  box.append(el('h4', {}, title));
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  legend.forEach((name, k) => svg.append(svgEl('text', { x: L + 120 * k, y: 12, style: `fill:${COLORS[k % COLORS.length]}` }, name)));
  labels.forEach((label, i) => {
    const y = T + i * rowH;
    svg.append(svgEl('text', { x: 0, y: y + 11 }, label.length > 42 ? `…${label.slice(-41)}` : label));
    valueSets.forEach((vals, k) => {
      const v = vals[i] ?? 0;
      const w = (Math.abs(v) / max) * (W - L - 70);
      // a negative value (a cosine) is drawn by its size in grey; its label keeps the sign
      svg.append(svgEl('rect', { x: L, y: y + 14 * k, width: Math.max(0.5, w), height: 12, fill: v < 0 ? '#9aa3b5' : COLORS[k % COLORS.length] ?? '#000' }));
      svg.append(svgEl('text', { x: L + w + 4, y: y + 14 * k + 10 }, fmt(v)));
    });
  });
  box.append(svg);
  return box;
}

// ---------------------------------------------------------------- source (run dir / model dir)

async function loadRuns() {
  const data = await api('/api/runs');
  const select = /** @type {HTMLSelectElement} */ ($('run-select'));
  select.textContent = '';
  for (const r of data.runs) select.append(el('option', { value: r.dir }, r.display));
  if (data.runs.length === 0) {
    select.append(el('option', { value: '' }, '(no run dir under the roots)'));
    showError(`No run dir found under the roots (${data.roots.map((/** @type {any} */ r) => r.dir).join(', ') || 'none'}). Run \`pnpm demo\` first or start the playground with --root DIR.`);
    return;
  }
  await openDir(data.runs[0].dir);
}

/** @param {string} dir */
async function openDir(dir) {
  state.dir = dir;
  const select = /** @type {HTMLSelectElement} */ ($('run-select'));
  if (!Array.from(select.options).some((o) => o.value === dir)) select.append(el('option', { value: dir }, dir));
  select.value = dir;
  state.adapter = null;
  state.adapterB = null;
  /** @type {HTMLButtonElement} */ ($('export')).disabled = true;
  $('adapter-info').textContent = '';
  $('outputs').hidden = true;
  showWarnings([]);
  renderAdapter();
  const [info] = await Promise.all([api('/api/open', { dir }), loadTraining(dir), loadExamples(dir)]);
  state.info = info;
  const p = info.prompt;
  $('where').textContent =
    `Models run in the local Node server${info.backend ? ` (tensor backend: ${info.backend})` : ''}; tick "also run TAGI in this browser" to run TAGI in this page as well. ` +
    `Instructions are prepared as ${p.from === 'config.json' ? "this run's training prepared them (its config.json)" : 'training prepares them (no run config: defaults)'}: ` +
    `definition${p.numPositive > 0 ? ` + ${p.numPositive} positive example${p.numPositive === 1 ? '' : 's'} for a suite task` : ''}, at most ${p.maxInstructionTokens} tokens for the hypernetwork and ${p.maxSourceTokens} for an input or prompt; longer texts are cut with a warning.`;
  $('where').setAttribute('data-num-positive', String(p.numPositive));
  const models = $('models');
  models.textContent = '';
  for (const [name, slot] of Object.entries(info.models)) {
    const label = { tagi: 'TAGI (generated adapter, input only)', base: 'No adapter (instruction + input)', concat: 'Instruction-concatenated multitask' }[name] ?? name;
    // the hypernet's role when it is not the finetuned TAGI one (a HINT-like or only pretrained run)
    const role = name === 'tagi' && slot.role && slot.role !== 'hypernet-tagi' ? ` [${slot.role}]` : '';
    const div = el('div', { class: `model${slot.available ? '' : ' off'}`, 'data-model': name, 'data-role': slot.role ?? '', title: slot.dir ?? '' }, `${label}${role}: ${slot.available ? 'ready' : `unavailable (${slot.reason})`}`);
    models.append(div);
  }
  if (info.runState) models.append(el('div', { class: 'note run-state' }, `This run's models: ${info.runState}`));
}

// ---------------------------------------------------------------- Training page

/** @param {string} dir */
async function loadTraining(dir) {
  const charts = $('training-charts');
  charts.textContent = '';
  $('results').textContent = '';
  let run;
  try {
    run = await api(`/api/run?dir=${encodeURIComponent(dir)}`);
  } catch (e) {
    $('training-info').textContent = `No training data: ${e instanceof Error ? e.message : e}`;
    return;
  }
  // the run's peft adapters by role (trainer_state.json): the stage-1 teachers and the multitask baseline
  const peft = /** @type {HTMLSelectElement} */ ($('peft-select'));
  peft.textContent = '';
  for (const a of run.artifacts.filter((/** @type {any} */ a) => a.kind === 'peft')) {
    peft.append(el('option', { value: a.dir, 'data-role': a.role, 'data-name': a.name ?? '' }, a.name ? `${a.role} ${a.name}` : a.role));
  }
  if (peft.options.length === 0) peft.append(el('option', { value: '' }, '(no peft adapter in this run)'));
  /** @type {Record<string, number>} */
  const roles = {};
  for (const a of run.artifacts) roles[a.role] = (roles[a.role] ?? 0) + 1;
  $('training-info').textContent =
    `${run.display}: ${run.metrics.length} metric records, ` +
    (run.runState ? `artefacts unknown (${run.runState})` : `${run.artifacts.length} artefacts by role (${Object.entries(roles).map(([k, n]) => (n > 1 ? `${n} × ${k}` : k)).join(', ')})`);
  // one chart per numeric key; one series per value of the string labels (e.g. the stage)
  /** @type {Map<string, Map<string, [number, number][]>>} */
  const byKey = new Map();
  run.metrics.forEach((/** @type {any} */ m, /** @type {number} */ i) => {
    // events (checkpoints, stage ends) are not points of a curve
    if (m.labels.event !== undefined || (m.values.step !== undefined && m.values.step < 0)) return;
    const x = m.values.step ?? m.values.global_step ?? m.values.epoch ?? i;
    const series = Object.entries(m.labels).filter(([k]) => !/time|date|ts$|message/i.test(k)).map(([, v]) => v).join(' / ') || 'run';
    // one chart per metric and stage family ('teachers/<category> (i/n)' → 'teachers', 'hypernet-tagi' →
    // 'hypernet'), so the scales stay readable; the stages of a family are its lines
    const family = (m.labels.stage ?? '').split(/[/ -]/)[0] || '';
    for (const [k, v] of Object.entries(m.values)) {
      if (['step', 'global_step', 'epoch', 'time', 'timestamp', 'elapsed', 'elapsed_s', 'wall_s', 'totalSteps', 'at', 'tokensPerSec'].includes(k)) continue;
      const chartKey = family ? `${k} · ${family}` : k;
      if (!byKey.has(chartKey)) byKey.set(chartKey, new Map());
      const s = /** @type {Map<string, [number, number][]>} */ (byKey.get(chartKey));
      if (!s.has(series)) s.set(series, []);
      s.get(series)?.push([x, /** @type {number} */ (v)]);
    }
  });
  for (const [key, series] of byKey) charts.append(lineChart(key, [...series].map(([name, points]) => ({ name, points }))));
  if (byKey.size === 0) charts.append(el('div', { class: 'note' }, 'metrics.jsonl is absent or empty.'));
  renderResults(run.resultsView, run.resultsMarkdown);
}

/**
 * A plain table of result rows (results.json version 1, or rows of another shape such as the trainer's `methods`).
 * @param {any[]} rows
 * @param {string} id
 */
function rowsTable(rows, id) {
  const cols = [...new Set(rows.flatMap((/** @type {any} */ r) => Object.keys(r)))].filter((c) => {
    const v = rows.find((/** @type {any} */ r) => r[c] !== undefined)?.[c];
    return typeof v !== 'object' || v === null;
  });
  cols.sort((a, b) => Number(typeof rows[0][a] === 'number') - Number(typeof rows[0][b] === 'number'));
  const table = el('table', { id });
  const head = el('tr');
  cols.forEach((c) => head.append(el('th', {}, c)));
  table.append(head);
  for (const r of rows) {
    const tr = el('tr');
    cols.forEach((c) => tr.append(el('td', {}, typeof r[c] === 'number' ? fmt(r[c]) : String(r[c] ?? ''))));
    table.append(tr);
  }
  return table;
}

const METRIC_LABELS = { rougeL: 'ROUGE-L', exactMatch: 'Exact match' };

/**
 * A bootstrap p-value as results.md prints it: 0 means "below the resolution 1/resamples", shown as a bound.
 * @param {number} p
 * @param {number} resamples
 */
function pText(p, resamples) {
  if (p === 0) {
    const v = 1 / resamples;
    const step = 10 ** (Math.floor(Math.log10(v)) - 1);
    return `p < ${Number((Math.ceil(v / step - 1e-9) * step).toPrecision(2))}`;
  }
  return `p = ${p < 0.001 ? p.toPrecision(1) : p.toFixed(3)}`;
}

/**
 * results.json version 2 (@tagi/eval's ResultsSummary): per metric one table of means with their CIs
 * (one column per split group: seen and held-out), the paired differences, and the notes.
 * @param {any} summary
 */
function summaryTables(summary) {
  const box = el('div', { id: 'results-summary' });
  const pct = `${Math.round(summary.config.level * 1000) / 10}%`;
  const num = (/** @type {number} */ v) => v.toFixed(1);
  const ci = (/** @type {any} */ s, /** @type {(v: number) => string} */ show) => (s.lo === null || s.hi === null ? `${show(s.estimate)} (no CI: < 2 tasks)` : `${show(s.estimate)} [${num(s.lo)}, ${num(s.hi)}]`);
  const headers = summary.columns.map((/** @type {any} */ c) => `${c.label} (${c.tasks} task${c.tasks === 1 ? '' : 's'}, ${c.instances} instances)`);
  const rows = [...summary.rows.filter((/** @type {any} */ r) => r.kind === 'method'), ...summary.rows.filter((/** @type {any} */ r) => r.kind !== 'method')];
  const showFlops = rows.some((/** @type {any} */ r) => r.relativeFlops !== null);
  const showTime = rows.some((/** @type {any} */ r) => r.relativeTime !== null);
  if (summary.title) box.append(el('h4', {}, summary.title));
  for (const metric of summary.config.metrics) {
    const label = METRIC_LABELS[/** @type {'rougeL'|'exactMatch'} */ (metric)] ?? metric;
    box.append(el('div', { class: 'note' }, `${label}: mean and ${pct} CI [lo, hi] from a task-level bootstrap (${summary.config.resamples} resamples)`));
    const table = el('table', { class: 'results-ci', 'data-metric': metric });
    const head = el('tr');
    for (const h of ['Method', 'Seeds', ...headers, ...(showFlops ? ['Rel. FLOPs'] : []), ...(showTime ? ['Rel. time'] : [])]) head.append(el('th', {}, h));
    table.append(head);
    for (const r of rows) {
      const tr = el('tr', { 'data-method': r.method });
      tr.append(el('td', {}, r.kind === 'method' ? r.label : `${r.label} (reference)`), el('td', {}, r.seeds.length === 0 ? '–' : String(r.seeds.length)));
      for (const c of summary.columns) {
        const s = r.scores[c.key]?.[metric];
        tr.append(s ? el('td', { 'data-column': c.key, 'data-estimate': s.estimate, 'data-lo': s.lo ?? '', 'data-hi': s.hi ?? '' }, ci(s, num)) : el('td', { 'data-column': c.key }, r.reason ? 'unavailable' : '–'));
      }
      if (showFlops) tr.append(el('td', {}, r.relativeFlops === null ? '–' : `×${r.relativeFlops.toFixed(2)}`));
      if (showTime) tr.append(el('td', {}, r.relativeTime === null ? '–' : `×${r.relativeTime.toFixed(2)}`));
      table.append(tr);
    }
    box.append(table);
  }
  if (summary.differences.length > 0) {
    for (const metric of summary.config.metrics) {
      const label = METRIC_LABELS[/** @type {'rougeL'|'exactMatch'} */ (metric)] ?? metric;
      box.append(el('div', { class: 'note' }, `Paired differences, ${label}: A − B on the same resampled tasks, ${pct} CI; p = share of resamples with A − B ≤ 0`));
      const table = el('table', { class: 'results-diff', 'data-metric': metric });
      const head = el('tr');
      for (const h of ['Comparison', ...headers]) head.append(el('th', {}, h));
      table.append(head);
      for (const d of summary.differences) {
        const tr = el('tr', { 'data-a': d.a, 'data-b': d.b });
        tr.append(el('td', {}, d.label));
        for (const c of summary.columns) {
          const s = d.scores[c.key]?.[metric];
          const signed = (/** @type {number} */ v) => `${v > 0 || Object.is(v, 0) ? '+' : ''}${num(v)}`;
          tr.append(s ? el('td', { 'data-column': c.key, 'data-estimate': s.estimate }, `${ci(s, signed)}${s.pValue === null ? '' : `, ${pText(s.pValue, summary.config.resamples)}`}`) : el('td', {}, '–'));
        }
        table.append(tr);
      }
      box.append(table);
    }
  }
  const notes = [...summary.rows.filter((/** @type {any} */ r) => r.reason).map((/** @type {any} */ r) => `${r.label}: ${r.reason}`), ...summary.notes];
  for (const n of notes) box.append(el('div', { class: 'note' }, n));
  return box;
}

/**
 * @param {any} view what the server read from results.json (kind: summary | table | rows | invalid | none)
 * @param {string | undefined} markdown
 */
function renderResults(view, markdown) {
  const box = $('results');
  if (view.kind === 'summary') box.append(summaryTables(view.summary));
  else if (view.kind === 'table') {
    const t = view.table;
    box.append(rowsTable(t.rows.map((/** @type {any} */ r) => ({ method: r.method, ...Object.fromEntries(t.columns.map((/** @type {any} */ c) => [c.label, r.scores[c.key] ?? null])), 'rel. FLOPs': r.relativeFlops ?? null, 'rel. time': r.relativeTime ?? null })), 'results-table'));
    for (const n of t.notes ?? []) box.append(el('div', { class: 'note' }, n));
  } else if (view.kind === 'rows') box.append(rowsTable(view.rows, 'results-table'));
  else if (view.kind === 'invalid') box.append(el('div', { class: 'note results-invalid' }, view.message));
  if (markdown) box.append(el('pre', { id: 'results-md' }, markdown));
  if (view.kind === 'none' && !markdown) box.append(el('div', { class: 'note' }, 'No results.json / results.md in this run dir.'));
}

// ---------------------------------------------------------------- Try page

/** @param {string} [dir] */
async function loadExamples(dir) {
  try {
    const data = await api(`/api/examples${dir ? `?dir=${encodeURIComponent(dir)}` : ''}`);
    state.examples = data.examples;
  } catch (e) {
    state.examples = [];
    showError(`Examples unavailable: ${e instanceof Error ? e.message : e}`);
  }
  const select = /** @type {HTMLSelectElement} */ ($('example-select'));
  select.textContent = '';
  select.append(el('option', { value: '' }, '(type your own)'));
  state.examples.forEach((ex, i) => select.append(el('option', { value: i }, `${ex.task}${ex.category ? ` (${ex.category})` : ''}`)));
}

function pickExample() {
  const v = /** @type {HTMLSelectElement} */ ($('example-select')).value;
  const ex = v === '' ? undefined : state.examples[Number(v)];
  if (!ex) return;
  state.example = ex;
  /** @type {HTMLTextAreaElement} */ ($('instruction')).value = ex.instruction;
  // the stage-1 teacher of the example's category, by the name trainer_state.json gives it
  const peft = /** @type {HTMLSelectElement} */ ($('peft-select'));
  const teacher = Array.from(peft.options).find((o) => ex.category && o.getAttribute('data-role') === 'teacher' && o.getAttribute('data-name') === ex.category);
  if (teacher) peft.value = teacher.value;
  /** @type {HTMLTextAreaElement} */ ($('inputs')).value = ex.inputs.join('\n');
  // expected outputs by input line: lines the user keeps are scored, lines they type are not
  state.expected = new Map(ex.inputs.map((/** @type {string} */ x, /** @type {number} */ i) => [x, ex.references?.[i] ?? []]));
  state.expectedFor = ex.instruction;
}

function instruction() {
  return /** @type {HTMLTextAreaElement} */ ($('instruction')).value;
}

/**
 * The instruction as the API takes it: the text, and the example's task while the text is that
 * example's instruction unchanged (the server then formats the task as training did).
 */
function instructionRequest() {
  const text = instruction();
  return state.example && text === state.example.instruction ? { instruction: text, task: state.example.task } : { instruction: text };
}

/** @param {any} adapter */
function exportNote(adapter) {
  const files = `adapter_config.json + adapter_model.safetensors (peft) + tagi_adapter.json${adapter.fusion === 'none' ? '' : ' + tagi_fusion.safetensors'}, the files \`tagi generate\` writes`;
  return adapter.peftReproducesTagi
    ? `Export: ${files}. Fusion "none": the peft part alone reproduces this TAGI model exactly (PeftModel.from_pretrained on the base).`
    : `Export: ${files}. Fusion "${adapter.fusion}": the peft part alone does NOT reproduce this TAGI model — the student also reads the encoded instruction, which tagi_fusion.safetensors holds (tagi_adapter.json says how to use it).`;
}

async function generate() {
  const adapter = await api('/api/generate', { dir: state.dir, ...instructionRequest() });
  state.adapter = adapter;
  /** @type {HTMLButtonElement} */ ($('export')).disabled = false;
  showWarnings(adapter.warnings ?? []);
  $('adapter-info').textContent = `Adapter ${adapter.id}: ${adapter.modules.length} modules, instruction ${adapter.instructionTokens} tokens${adapter.task ? ` (task ${adapter.task}, formatted as in training)` : ''}, generated in ${adapter.generateMs.toFixed(0)} ms (in the Node server).`;
  $('export-note').textContent = exportNote(adapter);
  renderAdapter();
}

const MODEL_NAMES = {
  tagi: 'TAGI (generated adapter, input only)',
  base: 'No adapter (instruction + input)',
  concat: 'Instruction-concatenated multitask',
  'tagi-page': 'TAGI in this browser (tfjs wasm)',
};

/** @param {number} ms */
const msText = (ms) => `${ms.toFixed(0)} ms`;

/**
 * Loads (once per dir) the TAGI model into this page: the bundle, the wasm backend and the checkpoint
 * files, all fetched from this server.
 */
async function inPageRunner() {
  if (state.inPage && state.inPage.dir === state.dir) return state.inPage.runner;
  state.inPage?.runner.dispose();
  state.inPage = null;
  const desc = await api(`/api/in-page?dir=${encodeURIComponent(state.dir)}`);
  if (!desc.available) throw new Error(`in-page runner: ${desc.reason}`);
  const bundle = /** @type {string} */ (desc.bundle);
  const mod = await import(bundle);
  const runner = await mod.loadInPage(desc, (/** @type {string} */ m) => ($('in-page-status').textContent = `in this browser: ${m}…`));
  $('in-page-status').textContent = `in this browser: loaded ${(runner.bytes / 1e6).toFixed(1)} MB and built the models in ${msText(runner.loadMs)} (tfjs backend: ${runner.backend})`;
  state.inPage = { dir: state.dir, runner };
  return runner;
}

/**
 * One answer cell: the output, and against the expected outputs a mark (exact match) and ROUGE-L.
 * @param {string} model
 * @param {string} output
 * @param {{ exactMatch: number, rougeL: number } | null | undefined} score
 */
function answerCell(model, output, score) {
  const td = el('td', { class: 'output', 'data-model': model });
  td.append(el('span', { class: 'answer' }, output));
  if (score) {
    const right = score.exactMatch === 100;
    td.classList.add(right ? 'right' : 'wrong');
    td.append(el('span', { class: 'score', 'data-em': score.exactMatch, 'data-rouge': score.rougeL.toFixed(2) }, `${right ? '✓ exact' : '✗'} · ROUGE-L ${score.rougeL.toFixed(0)}`));
  }
  return td;
}

async function runAll() {
  const inputs = /** @type {HTMLTextAreaElement} */ ($('inputs')).value.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
  if (inputs.length === 0) throw new Error('inputs: type at least one input line');
  let adapterId;
  const request = instructionRequest();
  if (state.info?.models.tagi.available) {
    if (!state.adapter || state.adapter.instruction !== request.instruction || state.adapter.task !== request.task) await generate();
    adapterId = state.adapter.id;
  }
  // the example's expected outputs hold only for the example's instruction
  const references = inputs.map((x) => (instruction() === state.expectedFor ? state.expected.get(x) ?? null : null));
  const scored = references.some((r) => r && r.length > 0);
  const data = await api('/api/run', { dir: state.dir, ...request, inputs, ...(adapterId ? { adapterId } : {}), ...(scored ? { references } : {}) });
  showWarnings(data.warnings ?? []);
  /** @type {{ model: string, outputs?: string[], tokens?: number[][], scores?: any[], error?: string, time: string }[]} */
  const columns = data.results.map((/** @type {any} */ r) => ({
    ...r,
    time: r.error ? 'unavailable' : `${msText(r.ms)}${r.model === 'tagi' && state.adapter ? ` (+ ${msText(state.adapter.generateMs)} once for the adapter)` : ''} in the Node server`,
  }));
  const inPage = /** @type {HTMLInputElement} */ ($('in-page')).checked;
  if (inPage) {
    try {
      const runner = await inPageRunner();
      const source = request.task && state.example ? { instruction: request.instruction, task: state.example.source } : request.instruction;
      const r = await runner.run(source, inputs, scored ? references : undefined);
      const server = data.results.find((/** @type {any} */ x) => x.model === 'tagi');
      const same = server?.tokens ? r.tokens.every((/** @type {number[]} */ t, /** @type {number} */ i) => JSON.stringify(t) === JSON.stringify(server.tokens[i])) : undefined;
      columns.push({
        model: 'tagi-page',
        outputs: r.outputs,
        tokens: r.tokens,
        scores: r.scores,
        time: `${msText(r.ms)}${r.generateMs > 0 ? ` (+ ${msText(r.generateMs)} for the adapter)` : ' (adapter cached)'} in this browser${same === undefined ? '' : same ? ' · same tokens as the server' : ' · tokens DIFFER from the server'}`,
      });
    } catch (e) {
      columns.push({ model: 'tagi-page', error: e instanceof Error ? e.message : String(e), time: 'unavailable' });
    }
  }
  const head = $('outputs-head');
  const body = $('outputs-body');
  head.textContent = '';
  body.textContent = '';
  head.append(el('th', {}, 'input'));
  if (scored) head.append(el('th', { class: 'expected' }, 'expected output'));
  for (const c of columns) {
    const th = el('th', { 'data-model': c.model }, MODEL_NAMES[/** @type {keyof MODEL_NAMES} */ (c.model)] ?? c.model);
    th.append(el('span', { class: 'time' }, c.time));
    head.append(th);
  }
  inputs.forEach((input, i) => {
    const tr = el('tr');
    tr.append(el('td', {}, input));
    if (scored) tr.append(el('td', { class: 'expected' }, references[i]?.join(' | ') ?? '(not known)'));
    for (const c of columns) {
      if (c.error || !c.outputs) tr.append(el('td', { class: 'unavailable', 'data-model': c.model }, c.error ?? 'unavailable'));
      else tr.append(answerCell(c.model, c.outputs[i] ?? '', c.scores?.[i]));
    }
    body.append(tr);
  });
  if (scored) {
    // the mean over the inputs with a known answer: where the gain of TAGI shows
    const tr = el('tr', { class: 'summary' });
    const n = references.filter((r) => r && r.length > 0).length;
    tr.append(el('td', {}, `mean over ${n} input${n === 1 ? '' : 's'} with a known answer`), el('td', { class: 'expected' }, ''));
    for (const c of columns) {
      const s = (c.scores ?? []).filter(Boolean);
      const mean = (/** @type {'exactMatch'|'rougeL'} */ k) => s.reduce((a, x) => a + x[k], 0) / Math.max(1, s.length);
      tr.append(el('td', { 'data-model': c.model, class: 'mean' }, s.length ? `exact match ${mean('exactMatch').toFixed(0)} · ROUGE-L ${mean('rougeL').toFixed(1)}` : ''));
    }
    body.append(tr);
  }
  $('outputs').hidden = false;
}

function exportAdapter() {
  if (!state.adapter) return;
  const a = el('a', { href: `/api/export?adapter=${encodeURIComponent(state.adapter.id)}`, download: `tagi-adapter-${state.adapter.id}.zip` });
  document.body.append(a);
  a.click();
  a.remove();
}

// ---------------------------------------------------------------- Adapter page

function renderAdapter() {
  const charts = $('adapter-charts');
  charts.textContent = '';
  $('diff-charts').textContent = '';
  $('adapter-empty').hidden = Boolean(state.adapter);
  if (!state.adapter) return;
  const mods = state.adapter.modules;
  const labels = mods.map((/** @type {any} */ m) => m.module);
  charts.append(el('div', { class: 'note' }, `Instruction: ${state.adapter.instruction}`));
  charts.append(
    el(
      'div',
      { class: 'note fusion', 'data-fusion': state.adapter.fusion, 'data-peft-reproduces': String(state.adapter.peftReproducesTagi) },
      `Instruction fusion: "${state.adapter.fusion}". ${exportNote(state.adapter)}`,
    ),
  );
  charts.append(barChart('‖scaling·B·A‖_F per module', labels, [mods.map((/** @type {any} */ m) => m.deltaNorm)]));
  charts.append(barChart('effective rank per module (of r)', labels, [mods.map((/** @type {any} */ m) => m.effectiveRank), mods.map((/** @type {any} */ m) => m.rank)], ['effective rank', 'r']));
}

/**
 * @param {string} title
 * @param {{ modules: any[] }} diff
 */
function renderDiff(title, diff) {
  const box = $('diff-charts');
  box.textContent = '';
  box.append(el('div', { class: 'note' }, title));
  const labels = diff.modules.map((/** @type {any} */ m) => m.module);
  box.append(barChart('relative difference ‖ΔW_a − ΔW_b‖ / max‖ΔW‖', labels, [diff.modules.map((/** @type {any} */ m) => m.relative)]));
  box.append(barChart('cosine(ΔW_a, ΔW_b)', labels, [diff.modules.map((/** @type {any} */ m) => m.cosine)]));
}

async function comparePeft() {
  if (!state.adapter) await generate();
  const peftDir = /** @type {HTMLSelectElement} */ ($('peft-select')).value;
  if (!peftDir) throw new Error('peftDir: this run has no peft adapter to compare with');
  const diff = await api('/api/diff', { a: state.adapter.id, peftDir });
  renderDiff(`generated adapter vs ${peftDir}`, diff);
}

async function compare() {
  if (!state.adapter) await generate();
  const b = /** @type {HTMLTextAreaElement} */ ($('instruction-b')).value;
  const adapterB = await api('/api/generate', { dir: state.dir, instruction: b });
  showWarnings(adapterB.warnings ?? []);
  state.adapterB = adapterB;
  const diff = await api('/api/diff', { a: state.adapter.id, b: adapterB.id });
  renderDiff(`adapter of the first instruction vs "${b.slice(0, 80)}"`, diff);
}

// ---------------------------------------------------------------- wiring

function showPage(/** @type {string} */ name) {
  document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('active', t.getAttribute('data-page') === name));
  document.querySelectorAll('.page').forEach((p) => ((/** @type {HTMLElement} */ (p)).hidden = p.id !== `page-${name}`));
}

document.querySelectorAll('.tab').forEach((t) => t.addEventListener('click', () => showPage(t.getAttribute('data-page') ?? 'try')));
$('in-page').addEventListener('change', () => {
  if (!(/** @type {HTMLInputElement} */ ($('in-page')).checked)) $('in-page-status').textContent = '';
});
$('run-select').addEventListener('change', () => busy(() => openDir(/** @type {HTMLSelectElement} */ ($('run-select')).value)));
$('open-dir').addEventListener('click', () => busy(() => openDir(/** @type {HTMLInputElement} */ ($('dir-input')).value.trim())));
$('example-select').addEventListener('change', pickExample);
$('generate').addEventListener('click', () => busy(generate));
$('run').addEventListener('click', () => busy(runAll));
$('export').addEventListener('click', exportAdapter);
$('compare').addEventListener('click', () => busy(compare));
$('compare-peft').addEventListener('click', () => busy(comparePeft));

busy(async () => {
  await loadRuns();
  if (state.examples.length === 0) await loadExamples();
}).then(() => document.body.setAttribute('data-ready', '1'));
