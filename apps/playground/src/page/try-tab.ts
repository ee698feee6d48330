// The Try page: pick an example or type an instruction and inputs, generate the adapter, run the three
// models in the Node server (and TAGI in this page, when ticked), and show outputs, times and scores.
import type { InstructionRequest, ModelRunResult } from '../engine-types';
import type { InPageTagi } from '../web/tagi-browser';
import { type ExamplesAnswer, type InPageAnswer, type RunAnswer, api } from './api';
import { byId, el, inputEl, msText, selectEl, textareaEl } from './dom';
import { errorText, showError, showWarnings } from './feedback';
import { generate, instructionRequest, instructionText } from './generation';
import { loadRunner } from './runner-bundle';
import { state } from './state';
import { chooseTeacher } from './teacher-choice';

const MODEL_NAMES: Readonly<Record<string, string>> = {
  tagi: 'TAGI (generated adapter, input only)',
  base: 'No adapter (instruction + input)',
  concat: 'Instruction-concatenated multitask',
  'tagi-page': 'TAGI in this browser (tfjs wasm)',
};

type Score = NonNullable<NonNullable<ModelRunResult['scores']>[number]>;

/** One column of the outputs table: a model's outputs (or why it has none) and its time. */
interface Column {
  readonly model: string;
  readonly outputs?: readonly string[] | undefined;
  readonly tokens?: readonly (readonly number[])[] | undefined;
  readonly scores?: readonly (Score | null)[] | undefined;
  readonly error?: string | undefined;
  readonly time: string;
}

/** The suite's held-out examples, with the run's demonstrations in their instructions when a dir is given. */
export async function loadExamples(dir?: string): Promise<void> {
  try {
    const data = await api<ExamplesAnswer>(`/api/examples${dir ? `?dir=${encodeURIComponent(dir)}` : ''}`);
    state.examples = data.examples;
  } catch (e) {
    state.examples = [];
    showError(`Examples unavailable: ${errorText(e)}`);
  }
  const select = selectEl('example-select');
  select.textContent = '';
  select.append(el('option', { value: '' }, '(type your own)'));
  state.examples.forEach((ex, i) => select.append(el('option', { value: i }, `${ex.task}${ex.category ? ` (${ex.category})` : ''}`)));
}

export function pickExample(): void {
  const v = selectEl('example-select').value;
  const ex = v === '' ? undefined : state.examples[Number(v)];
  if (!ex) return;
  state.example = ex;
  textareaEl('instruction').value = ex.instruction;
  // the stage-1 teacher to compare with: the task's own, its category's, or the nearest training task's (a held-out task has none of its own)
  const peft = selectEl('peft-select');
  const teachers = Array.from(peft.options)
    .filter((o) => o.getAttribute('data-role') === 'teacher')
    .map((o) => ({ name: o.getAttribute('data-name') ?? '', value: o.value }));
  const teacher = chooseTeacher(ex.task, ex.category, teachers);
  if (teacher) peft.value = teacher.value;
  peft.title =
    teacher === undefined
      ? ''
      : teacher.why === 'nearest'
        ? `no teacher of ${ex.task} (held out): the nearest training task's, ${teacher.name}`
        : `the teacher of ${teacher.why === 'own' ? 'this task' : 'its category'}`;
  textareaEl('inputs').value = ex.inputs.join('\n');
  // expected outputs by input line: lines the user keeps are scored, lines they type are not
  state.expected = new Map(ex.inputs.map((x, i) => [x, ex.references?.[i] ?? []]));
  state.expectedFor = ex.instruction;
}

/**
 * Loads (once per dir) the TAGI model into this page: the bundle, the wasm backend and the checkpoint
 * files, all fetched from this server.
 */
async function inPageRunner(): Promise<InPageTagi> {
  if (state.inPage && state.inPage.dir === state.dir) return state.inPage.runner;
  state.inPage?.runner.dispose();
  state.inPage = null;
  const desc = await api<InPageAnswer>(`/api/in-page?dir=${encodeURIComponent(state.dir)}`);
  const status = byId('in-page-status');
  const { module, runner } = await loadRunner(desc, 'in-page runner', (m) => (status.textContent = `in this browser: ${m}…`));
  status.textContent = `in this browser: loaded ${(runner.bytes / 1e6).toFixed(1)} MB and built the models in ${msText(runner.loadMs)} (tfjs backend: ${runner.backend}), ${module.describeThreads(runner.threads)}`;
  state.inPage = { dir: state.dir, runner };
  return runner;
}

/** The input lines of the Try page; at least one. */
function readInputs(): string[] {
  const inputs = textareaEl('inputs')
    .value.split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (inputs.length === 0) throw new Error('inputs: type at least one input line');
  return inputs;
}

/** The server's columns, each with its time (and the adapter's one-off generation time for TAGI). */
function serverColumns(results: readonly ModelRunResult[]): Column[] {
  return results.map((r) => ({
    ...r,
    time: r.error
      ? 'unavailable'
      : `${msText(r.ms ?? 0)}${r.model === 'tagi' && state.adapter ? ` (+ ${msText(state.adapter.generateMs)} once for the adapter)` : ''} in the Node server`,
  }));
}

/** TAGI run in this page on the same instruction and inputs, compared token for token with the server's TAGI. */
async function inPageColumn(
  request: InstructionRequest,
  inputs: string[],
  references: (string[] | null)[] | undefined,
  server: ModelRunResult | undefined,
): Promise<Column> {
  try {
    const runner = await inPageRunner();
    const source = request.task && state.example ? { instruction: request.instruction, task: state.example.source } : request.instruction;
    const r = await runner.run(source, inputs, references);
    const serverTokens = server?.tokens;
    const same = serverTokens ? r.tokens.every((t, i) => JSON.stringify(t) === JSON.stringify(serverTokens[i])) : undefined;
    return {
      model: 'tagi-page',
      outputs: r.outputs,
      tokens: r.tokens,
      scores: r.scores,
      time: `${msText(r.ms)}${r.generateMs > 0 ? ` (+ ${msText(r.generateMs)} for the adapter)` : ' (adapter cached)'} in this browser${same === undefined ? '' : same ? ' · same tokens as the server' : ' · tokens DIFFER from the server'}`,
    };
  } catch (e) {
    return { model: 'tagi-page', error: errorText(e), time: 'unavailable' };
  }
}

/** One answer cell: the output, and against the expected outputs a mark (exact match) and ROUGE-L. */
function answerCell(model: string, output: string, score: Score | null | undefined): HTMLTableCellElement {
  const td = el('td', { class: 'output', 'data-model': model });
  td.append(el('span', { class: 'answer' }, output));
  if (score) {
    const right = score.exactMatch === 100;
    td.classList.add(right ? 'right' : 'wrong');
    td.append(
      el(
        'span',
        { class: 'score', 'data-em': score.exactMatch, 'data-rouge': score.rougeL.toFixed(2) },
        `${right ? '✓ exact' : '✗'} · ROUGE-L ${score.rougeL.toFixed(0)}`,
      ),
    );
  }
  return td;
}

/** The outputs table: a row per input (with its expected output when known), a column per model, and the means. */
function renderOutputs(inputs: readonly string[], references: readonly (string[] | null)[], scored: boolean, columns: readonly Column[]): void {
  const head = byId('outputs-head');
  const body = byId('outputs-body');
  head.textContent = '';
  body.textContent = '';
  head.append(el('th', {}, 'input'));
  if (scored) head.append(el('th', { class: 'expected' }, 'expected output'));
  for (const c of columns) {
    const th = el('th', { 'data-model': c.model }, MODEL_NAMES[c.model] ?? c.model);
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
      const s = (c.scores ?? []).filter((x): x is Score => Boolean(x));
      const mean = (k: 'exactMatch' | 'rougeL'): number => s.reduce((a, x) => a + x[k], 0) / Math.max(1, s.length);
      tr.append(
        el(
          'td',
          { 'data-model': c.model, class: 'mean' },
          s.length ? `exact match ${mean('exactMatch').toFixed(0)} · ROUGE-L ${mean('rougeL').toFixed(1)}` : '',
        ),
      );
    }
    body.append(tr);
  }
  byId('outputs').hidden = false;
}

/** "Generate and run all three": the adapter (when the instruction changed), the server's run, the page's run. */
export async function runAll(): Promise<void> {
  const inputs = readInputs();
  let adapterId: string | undefined;
  const request = instructionRequest();
  if (state.info?.models.tagi.available) {
    const current = state.adapter;
    const adapter = !current || current.instruction !== request.instruction || current.task !== request.task ? await generate() : current;
    adapterId = adapter.id;
  }
  // the example's expected outputs hold only for the example's instruction
  const references = inputs.map((x) => (instructionText() === state.expectedFor ? (state.expected.get(x) ?? null) : null));
  const scored = references.some((r) => r && r.length > 0);
  const data = await api<RunAnswer>('/api/run', { dir: state.dir, ...request, inputs, ...(adapterId ? { adapterId } : {}), ...(scored ? { references } : {}) });
  showWarnings(data.warnings ?? []);
  const columns = serverColumns(data.results);
  if (inputEl('in-page').checked) {
    columns.push(
      await inPageColumn(
        request,
        inputs,
        scored ? references : undefined,
        data.results.find((x) => x.model === 'tagi'),
      ),
    );
  }
  renderOutputs(inputs, references, scored, columns);
}

export function exportAdapter(): void {
  if (!state.adapter) return;
  const a = el('a', { href: `/api/export?adapter=${encodeURIComponent(state.adapter.id)}`, download: `tagi-adapter-${state.adapter.id}.zip` });
  document.body.append(a);
  a.click();
  a.remove();
}

/** Unticking "also run TAGI in this browser" clears its status line. */
export function onInPageToggle(): void {
  if (!inputEl('in-page').checked) byId('in-page-status').textContent = '';
}
