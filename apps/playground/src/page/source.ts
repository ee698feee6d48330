// The header's source chooser: the run dirs under the roots, and opening one (or a model dir) — which
// resets the adapters and reloads every tab for that dir.
import { type OpenAnswer, type RunsAnswer, api } from './api';
import { renderAdapter } from './adapter-view';
import { buttonEl, byId, el, selectEl } from './dom';
import { showError, showWarnings } from './feedback';
import { state } from './state';
import { loadTraining } from './training-tab';
import { loadExamples } from './try-tab';

const MODEL_LABELS: Readonly<Record<string, string>> = {
  tagi: 'TAGI (generated adapter, input only)',
  base: 'No adapter (instruction + input)',
  concat: 'Instruction-concatenated multitask',
};

/** Fills the chooser with the run dirs under the roots and opens the newest. */
export async function loadRuns(): Promise<void> {
  const data = await api<RunsAnswer>('/api/runs');
  const select = selectEl('run-select');
  select.textContent = '';
  for (const r of data.runs) select.append(el('option', { value: r.dir }, r.display));
  const newest = data.runs[0];
  if (!newest) {
    select.append(el('option', { value: '' }, '(no run dir under the roots)'));
    showError(
      `No run dir found under the roots (${data.roots.map((r) => r.dir).join(', ') || 'none'}). Run \`pnpm demo\` first or start the playground with --root DIR.`,
    );
    return;
  }
  await openDir(newest.dir);
}

/** Where the models run and how instructions are prepared for them (the run's prompt settings). */
function describeWhere(info: OpenAnswer): string {
  const p = info.prompt;
  return (
    `Models run in the local Node server${info.backend ? ` (tensor backend: ${info.backend})` : ''}; tick "also run TAGI in this browser" to run TAGI in this page as well. ` +
    `Instructions are prepared as ${p.from === 'config.json' ? "this run's training prepared them (its config.json)" : 'training prepares them (no run config: defaults)'}: ` +
    `definition${p.numPositive > 0 ? ` + ${p.numPositive} positive example${p.numPositive === 1 ? '' : 's'} for a suite task` : ''}, at most ${p.maxInstructionTokens} tokens for the hypernetwork and ${p.maxSourceTokens} for an input or prompt; longer texts are cut with a warning.`
  );
}

/** Each model of the dir, ready or why not. */
function renderModels(info: OpenAnswer): void {
  const models = byId('models');
  models.textContent = '';
  for (const [name, slot] of Object.entries(info.models)) {
    const label = MODEL_LABELS[name] ?? name;
    // the hypernet's role when it is not the finetuned TAGI one (a HINT-like or only pretrained run)
    const role = name === 'tagi' && slot.role && slot.role !== 'hypernet-tagi' ? ` [${slot.role}]` : '';
    models.append(
      el(
        'div',
        { class: `model${slot.available ? '' : ' off'}`, 'data-model': name, 'data-role': slot.role ?? '', title: slot.dir ?? '' },
        `${label}${role}: ${slot.available ? 'ready' : `unavailable (${slot.reason})`}`,
      ),
    );
  }
  if (info.runState) models.append(el('div', { class: 'note run-state' }, `This run's models: ${info.runState}`));
}

/** Opens a run dir or a model dir: forgets the adapters, then loads its models, training and examples. */
export async function openDir(dir: string): Promise<void> {
  state.dir = dir;
  const select = selectEl('run-select');
  if (!Array.from(select.options).some((o) => o.value === dir)) select.append(el('option', { value: dir }, dir));
  select.value = dir;
  state.adapter = null;
  state.adapterB = null;
  buttonEl('export').disabled = true;
  byId('adapter-info').textContent = '';
  byId('outputs').hidden = true;
  showWarnings([]);
  renderAdapter();
  const [info] = await Promise.all([api<OpenAnswer>('/api/open', { dir }), loadTraining(dir), loadExamples(dir)]);
  state.info = info;
  byId('where').textContent = describeWhere(info);
  byId('where').setAttribute('data-num-positive', String(info.prompt.numPositive));
  renderModels(info);
}
