// Generating the adapter of the Try page's instruction in the Node server: the Try page's "Generate
// adapter" button, and what "run all", the comparisons and the export need first.
import type { InstructionRequest } from '../engine-types';
import { type GenerateAnswer, api } from './api';
import { exportNote, renderAdapter } from './adapter-view';
import { buttonEl, byId, textareaEl } from './dom';
import { showWarnings } from './feedback';
import { state } from './state';

export function instructionText(): string {
  return textareaEl('instruction').value;
}

/**
 * The instruction as the API takes it: the text, and the example's task while the text is that
 * example's instruction unchanged (the server then formats the task as training did).
 */
export function instructionRequest(): InstructionRequest {
  const text = instructionText();
  return state.example && text === state.example.instruction ? { instruction: text, task: state.example.task } : { instruction: text };
}

export async function generate(): Promise<GenerateAnswer> {
  const adapter = await api<GenerateAnswer>('/api/generate', { dir: state.dir, ...instructionRequest() });
  state.adapter = adapter;
  buttonEl('export').disabled = false;
  showWarnings(adapter.warnings ?? []);
  byId('adapter-info').textContent =
    `Adapter ${adapter.id}: ${adapter.modules.length} modules, instruction ${adapter.instructionTokens} tokens${adapter.task ? ` (task ${adapter.task}, formatted as in training)` : ''}, generated in ${adapter.generateMs.toFixed(0)} ms (in the Node server).`;
  byId('export-note').textContent = exportNote(adapter);
  renderAdapter();
  return adapter;
}

/** The adapter generated for the Try page's instruction, generating it first when there is none yet. */
export async function currentAdapter(): Promise<GenerateAnswer> {
  return state.adapter ?? (await generate());
}
