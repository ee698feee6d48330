// The standalone in-page runner (served as /in-page.js): /in-page.html?dir=<run dir> loads that run's base
// T5 and hypernet into this page (the newest run when no dir is given) and runs TAGI here; `?threads=N`
// gives the wasm backend N threads instead of every core (the bench compares N with one).
// `window.tagiInPage` holds the loaded runner, for a console or a test.
import type { InPageTagi } from '../web/tagi-browser';
import { type InPageAnswer, type RunsAnswer } from './api';
import { buttonEl, byId, textareaEl } from './dom';
import { errorText } from './feedback';
import { type RunnerModule, loadRunner, threadsFromUrl } from './runner-bundle';

export interface InPageHandle {
  readonly runner: InPageTagi;
  readonly module: RunnerModule;
  readonly dir: string;
}

declare global {
  interface Window {
    tagiInPage?: InPageHandle;
  }
}

function showError(message: string): void {
  byId('error').textContent = message;
  byId('error').hidden = false;
}

/** GET as JSON; a non-2xx answer becomes an Error with the server's `type: message`. */
async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const json = (await res.json()) as T & { error?: { type?: string; message?: string } };
  if (!res.ok) throw new Error(`${json.error?.type ?? res.status}: ${json.error?.message ?? res.statusText}`);
  return json;
}

/** The dir of the page's URL, or the newest run under the roots. */
async function chosenDir(): Promise<string> {
  const dir = new URLSearchParams(window.location.search).get('dir');
  if (dir) return dir;
  const runs = await getJson<RunsAnswer>('/api/runs');
  const newest = runs.runs[0];
  if (!newest) throw new Error('no run dir under the playground roots: pass ?dir=<run dir>');
  return newest.dir;
}

/** Runs the typed instruction on the typed inputs in this page and shows outputs, tokens and times. */
async function runTyped(runner: InPageTagi): Promise<void> {
  const instruction = textareaEl('instruction').value;
  const inputs = textareaEl('inputs')
    .value.split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const r = await runner.run(instruction, inputs);
  const warnings = byId('warnings');
  warnings.textContent = r.warnings.map((w) => `⚠ ${w}`).join('\n');
  warnings.hidden = r.warnings.length === 0;
  byId('timing').textContent =
    `adapter ${r.generateMs > 0 ? `generated in ${r.generateMs.toFixed(0)} ms` : 'reused'}; ${inputs.length} input${inputs.length === 1 ? '' : 's'} run in ${r.ms.toFixed(0)} ms, in this page.`;
  const body = byId('outputs-body');
  body.textContent = '';
  inputs.forEach((input, i) => {
    const tr = document.createElement('tr');
    for (const [cls, text] of [
      ['input', input],
      ['output', r.outputs[i] ?? ''],
      ['tokens', JSON.stringify(r.tokens[i])],
    ] as const) {
      const td = document.createElement('td');
      td.className = cls;
      td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  });
  byId('outputs').hidden = false;
  document.body.setAttribute('data-runs', String(Number(document.body.getAttribute('data-runs') ?? '0') + 1));
}

async function main(): Promise<void> {
  const threads = threadsFromUrl();
  const dir = await chosenDir();
  const desc = await getJson<InPageAnswer>(`/api/in-page?dir=${encodeURIComponent(dir)}`);
  const { module, runner } = await loadRunner(
    desc,
    `cannot run ${dir} in this page`,
    (m) => (byId('status').textContent = `${m}…`),
    threads === undefined ? {} : { threads },
  );
  window.tagiInPage = { runner, module, dir };
  byId('status').textContent =
    `${dir}: fetched ${(runner.bytes / 1e6).toFixed(1)} MB and built the models in ${runner.loadMs.toFixed(0)} ms (tfjs backend: ${runner.backend}), ${module.describeThreads(runner.threads)}.`;
  const button = buttonEl('run');
  button.disabled = false;
  button.addEventListener('click', async () => {
    byId('error').hidden = true;
    button.disabled = true;
    try {
      await runTyped(runner);
    } catch (e) {
      showError(errorText(e));
    } finally {
      button.disabled = false;
    }
  });
}

main()
  .catch((e: unknown) => showError(errorText(e)))
  .finally(() => document.body.setAttribute('data-ready', '1'));
