// Browser tests: Playwright (playwright-core, no browser download) driving Debian's Chromium against the
// real playground server. Screenshots are kept under test-artifacts/ (gitignored).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { loadAdapter } from '@tagi/lora/node';
import { initBackend } from '@tagi/tensor-core';
import { T5ForConditionalGeneration } from '@tagi/t5-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCheckpoints } from '../src/runs';
import { readZip } from '../src/zip';
import { type SpawnedServer, repoRoot, spawnServer } from './spawn-server';
import { writeSyntheticRun } from './synthetic-run';
import { CHROMIUM, buildInPageBundle, hasChromium, launchChromium, shot } from './chromium';

/** Exports the current adapter from the page and loads the peft dir back with @tagi/lora. */
export async function exportAndLoad(page: Page, baseDir: string, tmp: string): Promise<{ paths: string[]; r: number }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const zipFile = path.join(tmp, download.suggestedFilename());
  await download.saveAs(zipFile);
  const out = path.join(tmp, `unzipped-${path.basename(zipFile, '.zip')}`);
  const entries = readZip(new Uint8Array(fs.readFileSync(zipFile)));
  for (const e of entries) {
    fs.mkdirSync(path.join(out, path.dirname(e.name)), { recursive: true });
    fs.writeFileSync(path.join(out, e.name), e.data);
  }
  const folder = path.dirname(entries.find((e) => e.name.endsWith('adapter_config.json'))!.name);
  await initBackend({ backend: 'cpu' });
  const base = await T5ForConditionalGeneration.fromPretrained(baseDir);
  try {
    const set = await loadAdapter(path.join(out, folder), { model: base });
    const res = { paths: set.paths, r: set.config.r };
    set.dispose();
    return res;
  } finally {
    base.dispose();
  }
}

describe.skipIf(!hasChromium)(`playground in Chromium on a synthetic run dir (needs ${CHROMIUM}: apt-get install -y chromium)`, () => {
  let tmp: string;
  let root: string;
  let server: SpawnedServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;

  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-browser-')));
    root = path.join(tmp, 'runs');
    await writeSyntheticRun(path.join(root, 'synthetic'));
    const bad = path.join(root, 'bad-model');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify({ model_type: 't5', d_model: 'wide' }));
    fs.writeFileSync(path.join(bad, 'model.safetensors'), '');
    server = await spawnServer(['--root', root, '--backend', 'cpu']);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]');
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('opens the newest run and says where the models run', async () => {
    expect(await page.inputValue('#run-select')).toBe(path.join(root, 'synthetic'));
    expect(await page.textContent('#where')).toMatch(/Models run in the local Node server/);
    for (const m of ['tagi', 'base', 'concat']) expect(await page.textContent(`.model[data-model="${m}"]`)).toMatch(/ready/);
    expect(await page.isHidden('#error')).toBe(true);
  });

  it('Training: draws one chart per metric with a line per stage, and the results table', async () => {
    await page.click('.tab[data-page="training"]');
    // one chart per metric and stage family: loss and lr of 'base' and of 'hypernet' (-finetune)
    expect(await page.locator('#training-charts .chart').count()).toBe(4);
    expect(await page.locator('.chart[data-chart="loss · base"] path').count()).toBe(1);
    expect(await page.locator('.chart[data-chart="loss · hypernet"] path').count()).toBe(1);
    expect(await page.locator('#results-table tr').count()).toBe(3);
    expect(await page.textContent('#results-md')).toContain('| TAGI | 2.5 |');
    await shot(page, 'training');
  });

  it('Try: picks a held-out example, generates, shows outputs and times of all three models', async () => {
    await page.click('.tab[data-page="try"]');
    expect(await page.locator('#example-select option').count()).toBeGreaterThan(1);
    await page.selectOption('#example-select', { index: 1 });
    expect(await page.inputValue('#instruction')).toMatch(/Definition:/);
    expect(await page.inputValue('#instruction')).toMatch(/Positive Example 1/); // the run's numPos
    await page.click('#run');
    await page.waitForSelector('#outputs:not([hidden])');
    const rows = await page.locator('#outputs-body tr:not(.summary)').count();
    expect(rows).toBe((await page.inputValue('#inputs')).split('\n').filter((l) => l.trim()).length);
    for (const m of ['tagi', 'base', 'concat']) {
      expect(await page.locator(`td.output[data-model="${m}"]`).count()).toBe(rows);
      expect(await page.textContent(`th[data-model="${m}"] .time`)).toMatch(/\d+ ms/);
    }
    expect(await page.textContent('#adapter-info')).toMatch(/generated in \d+ ms \(in the Node server\)/);
    // a suite example carries its expected outputs: every answer is marked right or wrong, with a mean row
    expect(await page.locator('th.expected').count()).toBe(1);
    expect(await page.locator('td.output .score').count()).toBe(3 * rows);
    expect(await page.locator('tr.summary td.mean').allTextContents()).toEqual(Array(3).fill(expect.stringMatching(/^exact match \d+ · ROUGE-L \d+\.\d$/)));
    await shot(page, 'try');
  });

  it('Export: the downloaded zip is a peft dir that @tagi/lora loads', async () => {
    const { paths, r } = await exportAndLoad(page, path.join(root, 'synthetic', 'base-model'), tmp);
    expect(r).toBe(4);
    expect(paths.length).toBeGreaterThan(0);
    expect(await page.textContent('#adapter-info')).toContain(`${paths.length} modules`);
  });

  it('Adapter: charts of norms and effective ranks, and the difference of two instructions', async () => {
    await page.click('.tab[data-page="adapter"]');
    expect(await page.locator('#adapter-charts .chart').count()).toBe(2);
    const bars = await page.locator('#adapter-charts .chart').first().locator('rect').count();
    expect(bars).toBeGreaterThan(0);
    await page.fill('#instruction-b', 'Answer with the number of letters in the word.');
    await page.click('#compare');
    await page.waitForSelector('#diff-charts .chart');
    expect(await page.locator('#diff-charts .chart').count()).toBe(2);
    expect(await page.locator('#diff-charts .chart').first().locator('rect').count()).toBe(bars);
    await shot(page, 'adapter');
  });

  it('shows readable errors (too-long instruction, path outside the roots, bad checkpoint) and keeps working', async () => {
    await page.click('.tab[data-page="try"]');
    const instruction = await page.inputValue('#instruction');
    await page.fill('#instruction', 'word '.repeat(400));
    await page.click('#generate');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(/InstructionTooLong: instruction: \d+ tokens, more than the \d+ allowed/);
    await shot(page, 'error-too-long');

    await page.fill('#dir-input', '../../etc');
    await page.click('#open-dir');
    await page.waitForFunction(() => /PathAccessError/.test(document.getElementById('error')?.textContent ?? ''));
    expect(await page.textContent('#error')).toMatch(/outside the playground roots/);

    await page.fill('#dir-input', 'bad-model');
    await page.click('#open-dir');
    await page.waitForFunction(() => /CheckpointError/.test(document.getElementById('error')?.textContent ?? ''));
    expect(await page.textContent('#error')).toMatch(/d_model/);
    await shot(page, 'error-bad-checkpoint');

    // back to the good run: everything works again
    await page.fill('#dir-input', 'synthetic');
    await page.click('#open-dir');
    await page.waitForFunction(() => document.getElementById('error')?.hidden === true);
    await page.fill('#instruction', instruction);
    await page.click('#generate');
    await page.waitForFunction(() => /generated in/.test(document.getElementById('adapter-info')?.textContent ?? ''));
    expect(await page.isHidden('#error')).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Against a real `tagi demo --preset=smoke` run (the trainer's smallest end-to-end run)

const trainerCli = path.join(repoRoot, 'apps', 'trainer', 'src', 'cli.ts');

/** Runs the trainer's smoke demo into runDir; returns why it cannot be used, or undefined when it can. */
function runSmokeDemo(runDir: string): string | undefined {
  if (!fs.existsSync(trainerCli)) return `no trainer CLI at ${trainerCli}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo', '--preset=smoke', `--run-dir=${runDir}`], {
    cwd: path.dirname(path.dirname(trainerCli)),
    encoding: 'utf8',
    timeout: 15 * 60_000,
    env: { ...process.env, CI: 'true' },
  });
  if (r.status !== 0) return `tagi demo --preset=smoke failed (exit ${r.status}): ${(r.stderr || r.stdout).split('\n').slice(-8).join('\n')}`;
  const cps = findCheckpoints(runDir);
  if (!cps.some((c) => c.kind === 't5')) return 'the smoke run wrote no base model';
  if (!cps.some((c) => c.kind === 'hypernet' && !/pretrain/.test(c.rel))) return 'the smoke run wrote no finetuned hypernet (its hypernet stages were unavailable)';
  if (!cps.some((c) => c.kind === 'peft' && /multitask/.test(c.rel))) return 'the smoke run wrote no multitask baseline';
  return undefined;
}

describe.skipIf(!hasChromium)(`playground in Chromium on a tagi demo --preset=smoke run (needs ${CHROMIUM})`, () => {
  let tmp: string;
  let runDir: string;
  let unusable: string | undefined;
  let server: SpawnedServer | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let page: Page;

  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-smoke-')));
    // TAGI_PLAYGROUND_RUN=<run dir of an earlier `tagi demo`> tests (and screenshots) that run instead
    const given = process.env.TAGI_PLAYGROUND_RUN;
    runDir = given ? fs.realpathSync(given) : path.join(tmp, 'runs', 'smoke');
    unusable = given ? undefined : runSmokeDemo(runDir);
    if (unusable) return;
    buildInPageBundle();
    // wasm in the server too, so the in-page run (wasm) can be compared token for token
    server = await spawnServer(['--root', path.dirname(runDir), '--backend', 'wasm']);
    browser = await launchChromium();
    page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="1"]');
    if ((await page.inputValue('#run-select')) !== runDir) {
      await page.fill('#dir-input', runDir);
      await page.click('#open-dir');
      await page.waitForFunction((dir) => document.querySelector('.model[data-model="base"]')?.getAttribute('title')?.startsWith(dir) ?? false, runDir);
    }
  }, 20 * 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('types an instruction, generates, shows all three models, exports an adapter that @tagi/lora loads', async (ctx) => {
    if (unusable) ctx.skip(`no usable smoke run: ${unusable}`);
    for (const m of ['tagi', 'base', 'concat']) expect(await page.textContent(`.model[data-model="${m}"]`)).toMatch(/ready/);
    expect(await page.getAttribute('.model[data-model="tagi"]', 'title')).toBe(path.join(runDir, 'hypernet-tagi'));
    // Training page: the trainer's curves and the Table-2 rows
    await page.click('.tab[data-page="training"]');
    expect(await page.locator('.chart[data-chart="loss · base"]').count()).toBe(1);
    // the hypernet stages (pretrain, tagi, hint) share a chart, one line each
    expect(await page.locator('.chart[data-chart="ce · hypernet"] path').count()).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('#results-table')).toContain('TAGI');
    await shot(page, 'smoke-training');

    await page.click('.tab[data-page="try"]');
    // a held-out task of a category that has a stage-1 teacher in this run (compared on the Adapter page)
    const teachers = fs.readdirSync(path.join(runDir, 'teachers'));
    const index = await page.$eval('#example-select', (el, names) => Array.from((el as HTMLSelectElement).options).findIndex((o) => names.some((n) => o.textContent?.endsWith(`(${n})`))), teachers);
    expect(index).toBeGreaterThan(0);
    await page.selectOption('#example-select', { index });
    const instruction = await page.inputValue('#instruction');
    // typed, as a user would
    await page.fill('#instruction', '');
    await page.type('#instruction', instruction.slice(0, 400), { delay: 0 });
    await page.click('#run');
    await page.waitForSelector('#outputs:not([hidden])');
    const rows = await page.locator('#outputs-body tr:not(.summary)').count();
    expect(rows).toBeGreaterThan(0);
    for (const m of ['tagi', 'base', 'concat']) {
      expect(await page.locator(`td.output[data-model="${m}"]`).count()).toBe(rows);
      expect(await page.textContent(`th[data-model="${m}"] .time`)).toMatch(/\d+ ms/);
    }
    expect(await page.isHidden('#error')).toBe(true);
    // the same run in this browser (tfjs wasm in the page): the server's tokens, its own time beside them
    await page.check('#in-page');
    await page.click('#run');
    await page.waitForSelector('th[data-model="tagi-page"]', { timeout: 5 * 60_000 });
    expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
    expect(await page.textContent('th[data-model="tagi-page"] .time')).toMatch(/\d+ ms .*in this browser · same tokens as the server$/);
    await page.$eval('#instruction', (el) => el.scrollTo(0, 0));
    const file = await shot(page, 'smoke-try');
    if (process.env.TAGI_UPDATE_DOCS_SCREENSHOT === '1') fs.copyFileSync(file, path.join(repoRoot, 'docs', 'playground-try.png'));

    const { paths, r } = await exportAndLoad(page, path.join(runDir, 'base-model'), tmp);
    const hn = JSON.parse(fs.readFileSync(path.join(runDir, 'hypernet-tagi', 'hypernet_config.json'), 'utf8'));
    expect(r).toBe(hn.hypernet.rank);
    expect(paths.sort()).toEqual([...hn.target_paths].sort());

    await page.click('.tab[data-page="adapter"]');
    expect(await page.locator('#adapter-charts .chart').count()).toBe(2);
    // the example's category teacher is preselected; compare the generated adapter with it
    expect(await page.$eval('#peft-select', (el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent ?? '')).toMatch(/^teachers\//);
    await page.click('#compare-peft');
    await page.waitForSelector('#diff-charts .chart');
    expect(await page.locator('#diff-charts .chart').count()).toBe(2);
    expect(await page.locator('#diff-charts .chart').first().locator('rect').count()).toBe(paths.length);
    expect(await page.isHidden('#error')).toBe(true);
    await shot(page, 'smoke-adapter');
  });
});
