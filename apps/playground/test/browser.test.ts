// Browser tests: Playwright (playwright-core, no browser download) driving Debian's Chromium against the
// real playground server on a synthetic run (test/smoke-run.test.ts drives it on a real trainer run).
// Screenshots are kept under test-artifacts/ (gitignored).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { renderSummaryMarkdown, summarizeResults, summaryToJson } from '@tagi/eval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedServer, spawnServer } from './spawn-server';
import { writeSyntheticRun } from './synthetic-run';
import { CHROMIUM, exportAndLoad, hasChromium, launchChromium, shot } from './chromium';

// per-instance scores of two methods over seen and held-out tasks, summarised as `tagi demo` may write them
const summary = summarizeResults(
  ['a', 'b', 'c', 'd'].flatMap((task, t) =>
    ['seen', 'heldout'].flatMap((split) => [
      { method: 'tagi', taskId: `${split}-${task}`, split, rougeL: 40 + 10 * t, exactMatch: t % 2 ? 100 : 0 },
      { method: 'concat', taskId: `${split}-${task}`, split, rougeL: 30 + 5 * t, exactMatch: 0 },
    ]),
  ),
  {
    methods: [
      { id: 'concat', label: 'Instruction-concatenated multitask' },
      { id: 'tagi', label: 'TAGI', relativeFlops: 0.4 },
    ],
    columns: [
      { key: 'seen', label: 'seen tasks', splits: ['seen'] },
      { key: 'heldout', label: 'held-out tasks', splits: ['heldout'] },
    ],
    comparisons: [{ a: 'tagi', b: 'concat', label: 'TAGI − concatenated' }],
    resamples: 500,
  },
);

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
    // a run whose results.json is version 2 (@tagi/eval's summary: CIs, seen and held-out columns, a paired difference)
    const summaryRun = path.join(root, 'summary-run');
    fs.mkdirSync(summaryRun);
    fs.writeFileSync(path.join(summaryRun, 'metrics.jsonl'), '{"stage":"base","step":1,"loss":2}\n');
    fs.writeFileSync(path.join(summaryRun, 'results.json'), JSON.stringify(summaryToJson(summary)));
    fs.writeFileSync(path.join(summaryRun, 'results.md'), renderSummaryMarkdown(summary));
    fs.utimesSync(path.join(summaryRun, 'metrics.jsonl'), new Date(2020, 1, 1), new Date(2020, 1, 1)); // older: the synthetic run opens first
    for (const f of ['results.json', 'results.md']) fs.utimesSync(path.join(summaryRun, f), new Date(2020, 1, 1), new Date(2020, 1, 1));
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

  it('Training: a version-2 results.json shows each mean with its CI per column, and the paired differences', async () => {
    await page.click('.tab[data-page="training"]');
    await page.fill('#dir-input', 'summary-run');
    await page.click('#open-dir');
    await page.waitForSelector('#results-summary');
    const ci = (s: { estimate: number; lo: number | null; hi: number | null }) => `${s.estimate.toFixed(1)} [${s.lo!.toFixed(1)}, ${s.hi!.toFixed(1)}]`;
    expect(await page.locator('table.results-ci').count()).toBe(2); // ROUGE-L and exact match
    const heads = await page.locator('table.results-ci[data-metric="rougeL"] th').allTextContents();
    expect(heads).toEqual(['Method', 'Seeds', 'seen tasks (4 tasks, 4 instances)', 'held-out tasks (4 tasks, 4 instances)', 'Rel. FLOPs']);
    for (const row of summary.rows) {
      for (const col of ['seen', 'heldout']) {
        const cell = page.locator(`table.results-ci[data-metric="rougeL"] tr[data-method="${row.method}"] td[data-column="${col}"]`);
        expect(await cell.textContent()).toBe(ci(row.scores[col]!.rougeL!));
      }
    }
    const diff = summary.differences[0]!.scores['heldout']!.rougeL!;
    // the same cell as results.md prints it (renderSummaryMarkdown), bold marks aside
    const mdRow = renderSummaryMarkdown(summary)
      .split('\n')
      .find((l) => l.startsWith('| TAGI − concatenated |'))!;
    const heldOutCell = mdRow.slice(2, -2).split(' | ')[2]!;
    expect(await page.textContent('table.results-diff[data-metric="rougeL"] tr[data-a="tagi"] td[data-column="heldout"]')).toBe(heldOutCell);
    expect(heldOutCell).toMatch(new RegExp(`^\\+${ci(diff).replace(/[[\].]/g, '\\$&')}, p [<=] `));
    expect(await page.textContent('#results-md')).toContain('Paired differences');
    await shot(page, 'training-v2');
    // back to the synthetic run
    await page.fill('#dir-input', 'synthetic');
    await page.click('#open-dir');
    await page.waitForFunction(() => document.querySelector('.model[data-model="tagi"]')?.textContent?.includes('ready') ?? false);
    expect(await page.isHidden('#error')).toBe(true);
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

  it('Export: the downloaded zip holds the files `tagi generate` writes; its peft dir loads with @tagi/lora', async () => {
    const { paths, r, files, folder } = await exportAndLoad(page, path.join(root, 'synthetic', 'base-model'), tmp);
    expect(r).toBe(4);
    expect(paths.length).toBeGreaterThan(0);
    expect(files).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'tagi_adapter.json', 'tagi_fusion.safetensors']);
    expect(JSON.parse(fs.readFileSync(path.join(folder, 'tagi_adapter.json'), 'utf8')).peft_reproduces_tagi).toBe(false);
    expect(await page.textContent('#adapter-info')).toContain(`${paths.length} modules`);
    // the page says the peft part alone is not the model with this hypernet's fusion
    expect(await page.textContent('#export-note')).toMatch(/Fusion "concat": the peft part alone does NOT reproduce this TAGI model/);
  });

  it('Adapter: charts of norms and effective ranks, and the difference of two instructions', async () => {
    await page.click('.tab[data-page="adapter"]');
    expect(await page.locator('#adapter-charts .chart').count()).toBe(2);
    expect(await page.getAttribute('#adapter-charts .fusion', 'data-peft-reproduces')).toBe('false');
    expect(await page.textContent('#adapter-charts .fusion')).toMatch(/^Instruction fusion: "concat"\. Export: .*tagi_fusion\.safetensors.*does NOT reproduce/);
    const bars = await page.locator('#adapter-charts .chart').first().locator('rect').count();
    expect(bars).toBeGreaterThan(0);
    await page.fill('#instruction-b', 'Answer with the number of letters in the word.');
    await page.click('#compare');
    await page.waitForSelector('#diff-charts .chart');
    expect(await page.locator('#diff-charts .chart').count()).toBe(2);
    expect(await page.locator('#diff-charts .chart').first().locator('rect').count()).toBe(bars);
    await shot(page, 'adapter');
  });

  it('cuts a too-long instruction with a visible warning; shows readable errors (path outside the roots, bad checkpoint) and keeps working', async () => {
    await page.click('.tab[data-page="try"]');
    const instruction = await page.inputValue('#instruction');
    await page.fill('#instruction', 'word '.repeat(400));
    await page.click('#generate');
    await page.waitForSelector('#warnings:not([hidden])');
    expect(await page.isHidden('#error')).toBe(true);
    expect(await page.textContent('#warnings')).toMatch(
      /the instruction \(what the hypernetwork reads\): \d+ tokens, more than the 128 the run allows; \d+ tokens cut from the end of the definition \(eos kept\), as training cuts its texts/,
    );
    expect(await page.textContent('#adapter-info')).toMatch(/instruction 128 tokens/);
    await shot(page, 'warning-too-long');

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
    expect(await page.isHidden('#warnings')).toBe(true);
  });
});
