// Against a real `tagi demo --preset=smoke` run, made here by the trainer's CLI (about a minute), once for
// both parts of this file:
//  1. Train = serve (issue 15): for the same instruction, the hypernetwork input ids of the training
//     batch (the trainer's own finetuneTasks + finetuneObjective), of `tagi generate` (the CLI, spawned)
//     and of the playground are equal; so are the student's and the concatenated prompt's ids; an
//     over-long instruction is cut the same way by the CLI and the playground, both saying so; and the
//     playground's export holds the bytes `tagi generate` writes. The run trains with "Def"
//     (--prompt.num-pos=0), where a typed definition *is* a training instruction.
//  2. The page in Chromium on that run: typed instruction, all three models, TAGI in the page with the
//     server's tokens, the export, the comparison with the category's teacher.
// TAGI_PLAYGROUND_RUN=<run dir of an earlier `tagi demo`> uses that run instead (e.g. the `tiny` one).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { prepareInstruction } from '@tagi/datasets';
import { finetuneObjective } from '@tagi/hypernet';
import { loadHypernet } from '@tagi/hypernet/node';
import { initBackend } from '@tagi/tensor-core';
import { readRunState, runArtifacts } from '@tagi/run-dir/node';
import { T5ForConditionalGeneration } from '@tagi/t5-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TagiEngine } from '../src/engine';
import { CHROMIUM, buildInPageBundle, exportAndLoad, hasChromium, launchChromium, shot } from './chromium';
import { runSmokeDemo, runTrainer, trainerDir } from './smoke-run';
import { type SpawnedServer, repoRoot, spawnServer } from './spawn-server';

// the trainer's own code (from source): what its hypernet stage feeds the training batch
type TrainerLib = typeof import('../../trainer/src/index');

let tmp: string;
let runDir: string;
let unusable: string | undefined;

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-smoke-')));
  const given = process.env.TAGI_PLAYGROUND_RUN;
  runDir = given ? fs.realpathSync(given) : path.join(tmp, 'runs', 'smoke');
  unusable = given
    ? undefined
    : runSmokeDemo(runDir, [
        '--prompt.num-pos=0',
        // teachers per category, so a held-out task has one to compare with on the Adapter page (the default's
        // per-task teachers exist for training tasks only); the KL then comes from the multitask model
        '--teachers.group-by=category',
        '--distill.kl-teacher=multitask',
      ]);
}, 20 * 60_000);
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const role = (r: string): string => {
  const a = runArtifacts(runDir, readRunState(runDir)!, r)[0];
  if (!a) throw new Error(`${runDir}: no artefact with role '${r}'`);
  return a.dir;
};

describe('train = serve: the playground reads an instruction as training and `tagi generate` did', () => {
  it(
    'gives the hypernetwork, the student and the concatenated models the ids of the training batch and of the CLI',
    async (ctx) => {
      if (unusable) ctx.skip(`no usable smoke run: ${unusable}`);
      const lib = (await import(path.join(trainerDir, 'src', 'index.ts'))) as TrainerLib;
      const config = lib.validateConfig(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')), 'config.json');
      const numPos = config.prompt.numPos;
      const data = await lib.loadTaskData(config, () => {});
      const baseDir = role('base-model');
      const hnDir = role('hypernet-tagi');
      const tok = lib.modelTokenizer(baseDir);
      await initBackend({ backend: 'cpu' });
      const model = await T5ForConditionalGeneration.fromPretrained(baseDir);
      const hn = await loadHypernet(hnDir, model);
      // the ids of training batches, per task: the trainer's finetune tasks through @tagi/hypernet's objective
      const objective = finetuneObjective({ hypernet: hn, tasks: lib.finetuneTasks(config, data, tok, undefined), batchSize: 2, loss: { lambdaKl: 0 } });
      const trained = new Map<string, readonly number[]>();
      for (let step = 0; trained.size < 3; step++) {
        const b = objective.batch({ step, micro: 0 });
        trained.set(b.task.taskId, [...b.task.instructionIds]);
        objective.release?.(b);
      }
      objective.dispose();
      hn.dispose();
      model.dispose();
      // what the trainer's teachers and multitask stages read for an instance (its one instruction call site)
      const trainerInputs = new lib.InstructionInputs(tok, config.prompt);

      const engine = new TagiEngine({ backend: 'cpu', maxNewTokens: 4 });
      try {
        const info = await engine.open(runDir);
        expect(info.prompt).toEqual({
          numPositive: numPos,
          maxSourceTokens: config.prompt.maxSourceLength,
          maxInstructionTokens: expect.any(Number),
          from: 'config.json',
        });
        expect(info.models.tagi).toMatchObject({ available: true, dir: hnDir, role: 'hypernet-tagi' });
        let cliChecked = false;
        for (const [taskId, trainIds] of trained) {
          const task = data.byId.get(taskId)!;
          // the task as the suite example offers it, formatted with the run's demonstrations
          const asTask = await engine.generate(runDir, { instruction: prepareInstruction(task, { numPositive: numPos }).instruction, task: taskId });
          expect(asTask.task, taskId).toBe(taskId);
          expect(asTask.instructionIds, taskId).toEqual(trainIds);
          // the definition typed by a user, with or without its label: a training instruction when the run is "Def"
          const definition = task.definition[0]!;
          for (const typed of [definition, `Definition: ${definition}`]) {
            const g = await engine.generate(runDir, { instruction: typed });
            if (numPos === 0) expect(g.instructionIds, `${taskId}: ${typed}`).toEqual(trainIds);
            expect(g.warnings).toEqual([]);
          }
          // an instance: the student reads its input alone, the concatenated models the Tk-Instruct prompt
          const input = task.instances[0]!.input;
          const ids = await engine.prepare(runDir, { instruction: prepareInstruction(task, { numPositive: numPos }).instruction, task: taskId }, [input]);
          expect(ids.studentIds, taskId).toEqual([trainerInputs.studentInputIds(task, input)]);
          expect(ids.concatenatedIds, taskId).toEqual([trainerInputs.concatenatedIds(task, input)]);

          if (cliChecked) continue;
          cliChecked = true;
          // `tagi generate` with the same typed definition: the same ids, and the same files the playground exports
          const out = path.join(tmp, 'generated');
          const cli = runTrainer(['generate', '--backend=cpu', `--hypernet=${hnDir}`, `--instruction=${definition}`, `--out=${out}`], 5 * 60_000);
          expect(cli.status, cli.stderr).toBe(0);
          const meta = JSON.parse(fs.readFileSync(path.join(out, 'tagi_adapter.json'), 'utf8')) as { instruction_ids: number[] };
          const served = await engine.generate(runDir, { instruction: definition });
          expect(served.instructionIds).toEqual(meta.instruction_ids);
          if (numPos === 0) expect(meta.instruction_ids).toEqual(trainIds);
          const exp = await engine.exportAdapter(served.id);
          expect(exp.files.map((f) => f.name)).toEqual(fs.readdirSync(out).sort());
          for (const f of exp.files) expect(Buffer.from(f.data).equals(fs.readFileSync(path.join(out, f.name))), f.name).toBe(true);

          // an instruction longer than the hypernetwork reads: both cut it to the same ids, both warn
          const long = `${definition} ${'Keep every word of the input in its original order. '.repeat(40)}`;
          const longOut = path.join(tmp, 'generated-long');
          const cliLong = runTrainer(['generate', '--backend=cpu', `--hypernet=${hnDir}`, `--instruction=${long}`, `--out=${longOut}`], 5 * 60_000);
          expect(cliLong.status, cliLong.stderr).toBe(0);
          expect(cliLong.stderr).toMatch(/more than the hypernetwork reads \(max_instruction_length (\d+)\); it was cut to \1 tokens/);
          const servedLong = await engine.generate(runDir, { instruction: long });
          expect(servedLong.instructionIds).toEqual(
            (JSON.parse(fs.readFileSync(path.join(longOut, 'tagi_adapter.json'), 'utf8')) as { instruction_ids: number[] }).instruction_ids,
          );
          expect(servedLong.instructionIds).toHaveLength(info.prompt.maxInstructionTokens);
          expect(servedLong.warnings).toEqual([
            expect.stringMatching(
              new RegExp(
                `^the instruction \\(what the hypernetwork reads\\): ${servedLong.truncation!.tokensBefore} tokens, more than the ${info.prompt.maxInstructionTokens} the run allows`,
              ),
            ),
          ]);
        }
        expect(cliChecked).toBe(true);
      } finally {
        engine.dispose();
      }
    },
    15 * 60_000,
  );
});

describe.skipIf(!hasChromium)(`playground in Chromium on a tagi demo --preset=smoke run (needs ${CHROMIUM})`, () => {
  let server: SpawnedServer | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let page: Page;

  beforeAll(async () => {
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
  }, 10 * 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('types an instruction, generates, shows all three models, exports an adapter that @tagi/lora loads', async (ctx) => {
    if (unusable) ctx.skip(`no usable smoke run: ${unusable}`);
    for (const m of ['tagi', 'base', 'concat']) expect(await page.textContent(`.model[data-model="${m}"]`)).toMatch(/ready/);
    expect(await page.getAttribute('.model[data-model="tagi"]', 'title')).toBe(role('hypernet-tagi'));
    // Training page: the trainer's curves and the Table-2 rows
    await page.click('.tab[data-page="training"]');
    expect(await page.locator('.chart[data-chart="loss · base"]').count()).toBe(1);
    // the hypernet stages (pretrain, tagi, hint) share a chart, one line each
    expect(await page.locator('.chart[data-chart="ce · hypernet"] path').count()).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('#results')).toContain('TAGI');
    await shot(page, 'smoke-training');

    await page.click('.tab[data-page="try"]');
    // a held-out task of a category that has a stage-1 teacher in this run (compared on the Adapter page)
    const teachers = runArtifacts(runDir, readRunState(runDir)!, 'teacher').map((t) => t.name ?? '');
    const index = await page.$eval(
      '#example-select',
      (el, names) => Array.from((el as HTMLSelectElement).options).findIndex((o) => names.some((n) => o.textContent?.endsWith(`(${n})`))),
      teachers,
    );
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

    const { paths, r, files } = await exportAndLoad(page, role('base-model'), tmp);
    const hn = JSON.parse(fs.readFileSync(path.join(role('hypernet-tagi'), 'hypernet_config.json'), 'utf8'));
    expect(r).toBe(hn.hypernet.rank);
    expect(paths.sort()).toEqual([...hn.target_paths].sort());
    expect(files).toContain('tagi_adapter.json');

    await page.click('.tab[data-page="adapter"]');
    expect(await page.locator('#adapter-charts .chart').count()).toBe(2);
    expect(await page.getAttribute('#adapter-charts .fusion', 'data-fusion')).toBe(hn.hypernet.fusion);
    // the example's category teacher (by its role and name in trainer_state.json) is preselected; compare with it
    expect(await page.$eval('#peft-select', (el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent ?? '')).toMatch(/^teacher /);
    await page.click('#compare-peft');
    await page.waitForSelector('#diff-charts .chart');
    expect(await page.locator('#diff-charts .chart').count()).toBe(2);
    expect(await page.locator('#diff-charts .chart').first().locator('rect').count()).toBe(paths.length);
    expect(await page.isHidden('#error')).toBe(true);
    await shot(page, 'smoke-adapter');
  });
});
