// @ts-check
// The standalone in-page runner: /in-page.html?dir=<run dir> loads that run's base T5 and hypernet into
// this page (the newest run when no dir is given) and runs TAGI here. `window.tagiInPage` holds the
// loaded runner, for a console or a test.

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {string} message */
function showError(message) {
  byId('error').textContent = message;
  byId('error').hidden = false;
}

/** @param {string} url */
async function getJson(url) {
  const res = await fetch(url);
  const json = await res.json();
  if (!res.ok) throw new Error(`${json.error?.type ?? res.status}: ${json.error?.message ?? res.statusText}`);
  return json;
}

async function main() {
  let dir = new window.URLSearchParams(window.location.search).get('dir');
  if (!dir) {
    const runs = await getJson('/api/runs');
    if (runs.runs.length === 0) throw new Error('no run dir under the playground roots: pass ?dir=<run dir>');
    dir = /** @type {string} */ (runs.runs[0].dir);
  }
  const desc = await getJson(`/api/in-page?dir=${encodeURIComponent(dir)}`);
  if (!desc.available) throw new Error(`cannot run ${dir} in this page: ${desc.reason}`);
  const bundle = /** @type {string} */ (desc.bundle);
  const mod = await import(bundle);
  const runner = await mod.loadInPage(desc, (/** @type {string} */ m) => (byId('status').textContent = `${m}…`));
  Object.assign(window, { tagiInPage: { runner, module: mod, dir } });
  byId('status').textContent = `${dir}: fetched ${(runner.bytes / 1e6).toFixed(1)} MB and built the models in ${runner.loadMs.toFixed(0)} ms (tfjs backend: ${runner.backend}).`;
  const button = /** @type {HTMLButtonElement} */ (byId('run'));
  button.disabled = false;
  button.addEventListener('click', async () => {
    byId('error').hidden = true;
    button.disabled = true;
    try {
      const instruction = /** @type {HTMLTextAreaElement} */ (byId('instruction')).value;
      const inputs = /** @type {HTMLTextAreaElement} */ (byId('inputs')).value.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
      const r = await runner.run(instruction, inputs);
      const warnings = byId('warnings');
      warnings.textContent = r.warnings.map((/** @type {string} */ w) => `⚠ ${w}`).join('\n');
      warnings.hidden = r.warnings.length === 0;
      byId('timing').textContent = `adapter ${r.generateMs > 0 ? `generated in ${r.generateMs.toFixed(0)} ms` : 'reused'}; ${inputs.length} input${inputs.length === 1 ? '' : 's'} run in ${r.ms.toFixed(0)} ms, in this page.`;
      const body = byId('outputs-body');
      body.textContent = '';
      inputs.forEach((input, i) => {
        const tr = document.createElement('tr');
        for (const [cls, text] of [['input', input], ['output', r.outputs[i]], ['tokens', JSON.stringify(r.tokens[i])]]) {
          const td = document.createElement('td');
          td.className = cls;
          td.textContent = text;
          tr.append(td);
        }
        body.append(tr);
      });
      byId('outputs').hidden = false;
      document.body.setAttribute('data-runs', String(Number(document.body.getAttribute('data-runs') ?? '0') + 1));
    } catch (e) {
      showError(e instanceof Error ? e.message : String(e));
    } finally {
      button.disabled = false;
    }
  });
}

main()
  .catch((e) => showError(e instanceof Error ? e.message : String(e)))
  .finally(() => document.body.setAttribute('data-ready', '1'));
