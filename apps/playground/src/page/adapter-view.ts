// The Adapter page's drawings: the generated adapter's statistics per module, and the difference of two
// adapters. Pure rendering from the page state and the server's answers.
import type { DiffAnswer, GenerateAnswer } from './api';
import { barChart } from './charts';
import { byId, el } from './dom';
import { state } from './state';

/** What the export holds, and whether its peft part alone reproduces this TAGI model. */
export function exportNote(adapter: GenerateAnswer): string {
  const files = `adapter_config.json + adapter_model.safetensors (peft) + tagi_adapter.json${adapter.fusion === 'none' ? '' : ' + tagi_fusion.safetensors'}, the files \`tagi generate\` writes`;
  return adapter.peftReproducesTagi
    ? `Export: ${files}. Fusion "none": the peft part alone reproduces this TAGI model exactly (PeftModel.from_pretrained on the base).`
    : `Export: ${files}. Fusion "${adapter.fusion}": the peft part alone does NOT reproduce this TAGI model — the student also reads the encoded instruction, which tagi_fusion.safetensors holds (tagi_adapter.json says how to use it).`;
}

export function renderAdapter(): void {
  const charts = byId('adapter-charts');
  charts.textContent = '';
  byId('diff-charts').textContent = '';
  byId('adapter-empty').hidden = Boolean(state.adapter);
  const adapter = state.adapter;
  if (!adapter) return;
  const mods = adapter.modules;
  const labels = mods.map((m) => m.module);
  charts.append(el('div', { class: 'note' }, `Instruction: ${adapter.instruction}`));
  charts.append(
    el(
      'div',
      { class: 'note fusion', 'data-fusion': adapter.fusion, 'data-peft-reproduces': String(adapter.peftReproducesTagi) },
      `Instruction fusion: "${adapter.fusion}". ${exportNote(adapter)}`,
    ),
  );
  charts.append(barChart('‖scaling·B·A‖_F per module', labels, [mods.map((m) => m.deltaNorm)]));
  charts.append(barChart('effective rank per module (of r)', labels, [mods.map((m) => m.effectiveRank), mods.map((m) => m.rank)], ['effective rank', 'r']));
}

export function renderDiff(title: string, diff: DiffAnswer): void {
  const box = byId('diff-charts');
  box.textContent = '';
  box.append(el('div', { class: 'note' }, title));
  const labels = diff.modules.map((m) => m.module);
  box.append(barChart('relative difference ‖ΔW_a − ΔW_b‖ / max‖ΔW‖', labels, [diff.modules.map((m) => m.relative)]));
  box.append(barChart('cosine(ΔW_a, ΔW_b)', labels, [diff.modules.map((m) => m.cosine)]));
}
