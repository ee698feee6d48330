// The playground page (served as /app.js): plain DOM + SVG, no framework. Model work happens in the Node
// server; this page sends JSON and draws what comes back. Only the "also run TAGI in this browser"
// option runs a model here: it loads the in-page runner bundle (/web/tagi-browser.js) on demand.
// One module per tab: try-tab, adapter-tab (+ adapter-view), training-tab (+ results-tables); source.ts
// is the header's dir chooser. This file wires the buttons and starts.
import { compare, comparePeft } from './adapter-tab';
import { byId, inputEl, selectEl } from './dom';
import { busy } from './feedback';
import { generate } from './generation';
import { loadRuns, openDir } from './source';
import { state } from './state';
import { exportAdapter, loadExamples, onInPageToggle, pickExample, runAll } from './try-tab';

function showPage(name: string): void {
  document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('active', t.getAttribute('data-page') === name));
  document.querySelectorAll<HTMLElement>('.page').forEach((p) => (p.hidden = p.id !== `page-${name}`));
}

function wire(): void {
  document.querySelectorAll('.tab').forEach((t) => t.addEventListener('click', () => showPage(t.getAttribute('data-page') ?? 'try')));
  byId('in-page').addEventListener('change', onInPageToggle);
  byId('run-select').addEventListener('change', () => busy(() => openDir(selectEl('run-select').value)));
  byId('open-dir').addEventListener('click', () => busy(() => openDir(inputEl('dir-input').value.trim())));
  byId('example-select').addEventListener('change', pickExample);
  byId('generate').addEventListener('click', () => busy(async () => void (await generate())));
  byId('run').addEventListener('click', () => busy(runAll));
  byId('export').addEventListener('click', exportAdapter);
  byId('compare').addEventListener('click', () => busy(compare));
  byId('compare-peft').addEventListener('click', () => busy(comparePeft));
}

wire();
void busy(async () => {
  await loadRuns();
  if (state.examples.length === 0) await loadExamples();
}).then(() => document.body.setAttribute('data-ready', '1'));
