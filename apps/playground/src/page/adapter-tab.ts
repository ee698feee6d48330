// The Adapter page's actions: compare the generated adapter with a second instruction's, or with a peft
// adapter of the run (a stage-1 teacher). Its drawings are in adapter-view.ts.
import { type DiffAnswer, type GenerateAnswer, api } from './api';
import { renderDiff } from './adapter-view';
import { selectEl, textareaEl } from './dom';
import { showWarnings } from './feedback';
import { currentAdapter } from './generation';
import { state } from './state';

export async function comparePeft(): Promise<void> {
  const adapter = await currentAdapter();
  const peftDir = selectEl('peft-select').value;
  if (!peftDir) throw new Error('peftDir: this run has no peft adapter to compare with');
  const diff = await api<DiffAnswer>('/api/diff', { a: adapter.id, peftDir });
  renderDiff(`generated adapter vs ${peftDir}`, diff);
}

export async function compare(): Promise<void> {
  const adapter = await currentAdapter();
  const b = textareaEl('instruction-b').value;
  const adapterB = await api<GenerateAnswer>('/api/generate', { dir: state.dir, instruction: b });
  showWarnings(adapterB.warnings ?? []);
  state.adapterB = adapterB;
  const diff = await api<DiffAnswer>('/api/diff', { a: adapter.id, b: adapterB.id });
  renderDiff(`adapter of the first instruction vs "${b.slice(0, 80)}"`, diff);
}
