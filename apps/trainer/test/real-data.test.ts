// The CLI's real-data paths end to end on the shared samples, with a tiny random T5 that has the real T5
// vocabulary (32,128 rows): `tagi pretrain --data` on a text corpus, `tagi eval --data P3_DIR` (accuracies
// equal to a direct @tagi/eval rankReport with the same scorer), `--model` as a Hub id served by the local
// fixture Hub (no network; the downloaded model scores exactly as the directory it came from; offline
// reuse of the cache; unknown ids), `~` in path flags, and a model whose vocabulary the tokenizer overflows.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InstructionInputs } from '@tagi/datasets';
import { type RankReport, rankReport, rankReportToJson } from '@tagi/eval';
import { generateAdapter, taskForwardArgs } from '@tagi/hypernet';
import { AdapterSet, loraConfig } from '@tagi/lora';
import { saveAdapter } from '@tagi/lora/node';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import { type HubFixture, startHubFixture } from '@tagi/t5-model/testing';
import { initBackend } from '@tagi/tensor-core';
import { readRunState, runArtifacts } from '@tagi/run-dir/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelTokenizer } from '../src/data/tasks.js';
import { prepareInputs } from '../src/cli/inputs.js';
import { parseInvocation } from '../src/cli/invocation.js';
import { main } from '../src/cli/main.js';
import { loadBaseModel, loadCheckedAdapter, loadCheckedHypernet } from '../src/data/models.js';
import { loadP3EvalData, t5ChoiceScorer, templateInstruction, templateInstructions } from '../src/stages/p3-eval.js';
import { resolvePath } from '../src/common/paths.js';
import { readRunConfig } from '../src/run/run-files.js';
import { captureIO } from '../src/common/test-helpers.js';

// the shared reference data beside the repository (../shared/data, see its README)
const SHARED_DATA = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data');
const P3 = path.join(SHARED_DATA, 'p3');
const SNI = path.join(SHARED_DATA, 'sni');
const tmp = mkdtempSync(path.join(tmpdir(), 'tagi-real-data-'));
const t5Dir = path.join(tmp, 't5-vocab'); // the real T5 vocabulary, random weights
const v256Dir = path.join(tmp, 'v256'); // 256 ids, no tokenizer of its own
const adapterDir = path.join(tmp, 'adapter'); // a peft LoRA on t5Dir with non-zero B: it changes the scores
const env = { ...process.env };

async function run(argv: string[], cwd = tmp) {
  const io = { ...captureIO(), cwd };
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const stripMeta = (file: string) => {
  const { meta: _meta, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  return rest;
};

beforeAll(async () => {
  process.env['HOME'] = tmp; // `~` in the flags below is this directory (restored in afterAll)
  await initBackend({ backend: 'wasm' });
  const shape = { dModel: 16, dKv: 4, numHeads: 2, dFf: 32, numLayers: 1, numDecoderLayers: 1 };
  const t5 = createRandomT5(makeT5Config({ ...shape, vocabSize: 32128, feedForwardProj: 'gated-gelu' }), 7);
  await saveT5(t5, t5Dir);
  const lora = AdapterSet.create(t5, loraConfig({ r: 2, loraAlpha: 4, targetModules: ['q', 'v'] }), { seed: 3, initBStd: 0.5 });
  await saveAdapter(adapterDir, lora);
  lora.dispose();
  t5.dispose();
  await saveT5(createRandomT5(makeT5Config({ ...shape, vocabSize: 256 }), 7), v256Dir);
});
afterAll(() => {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  Object.assign(process.env, env);
  rmSync(tmp, { recursive: true, force: true });
});

const preDir = path.join(tmp, 'pre');

describe('tagi pretrain --data (a text corpus)', () => {
  it('pretrains the hypernetwork on a directory of .jsonl and .txt documents', async () => {
    const corpus = path.join(tmp, 'corpus');
    mkdirSync(corpus);
    const docs = [
      'Hypernetworks write adapter weights from a task instruction.',
      'A frozen T5 reads the task input alone.',
      'Distillation aligns the student with its teacher.',
    ];
    writeFileSync(path.join(corpus, 'a.jsonl'), `${docs.map((text, i) => JSON.stringify({ text, url: `u${i}` })).join('\n')}\n`);
    writeFileSync(path.join(corpus, 'b.txt'), 'First paragraph of plain text,\nspanning two lines.\n\nSecond paragraph of plain text.\n');
    writeFileSync(path.join(corpus, 'notes.md'), 'not read');
    const r = await run(['pretrain', '--preset=smoke', '--backend=wasm', `--model=${t5Dir}`, '--data=corpus', `--run-dir=${preDir}`]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // 3 jsonl lines + 2 blank-line separated paragraphs; the .md file is not a corpus file
    expect(r.out).toMatch(/data: text corpus 2 files: 5 documents/);
    const state = readRunState(preDir)!;
    // one pretrained hypernetwork per seed (hypernet-pretrained/seed-N), each a finished stage
    const outs = runArtifacts(preDir, state, 'hypernet-pretrained');
    expect(outs.length).toBeGreaterThan(0);
    for (const o of outs) expect(state.stages[path.relative(preDir, o.dir)]?.status, o.dir).toBe('done');
    const [out] = outs;
    expect(existsSync(path.join(out!.dir, 'hypernet.safetensors'))).toBe(true);
  });

  it('names the file, line and expected field of a bad line; exit 2 and no run dir', async () => {
    const bad = path.join(tmp, 'bad.jsonl');
    writeFileSync(bad, '{"text": "a fine first document"}\n{"content": "no text field"}\n');
    const r = await run(['pretrain', '--preset=smoke', '--backend=wasm', `--model=${t5Dir}`, `--data=${bad}`, `--run-dir=${path.join(tmp, 'pre-bad')}`]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`tagi: --data: ${bad}:2: field "text": expected a string`);
    expect(existsSync(path.join(tmp, 'pre-bad'))).toBe(false);
  });

  it('refuses a corpus for a command that trains on tasks, and a P3 dir outside eval, before creating anything', async () => {
    const r1 = await run(['teachers', '--preset=smoke', `--model=${t5Dir}`, `--data=${path.join(tmp, 'bad.jsonl')}`, `--run-dir=${path.join(tmp, 'x1')}`]);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/is a text corpus: hypernetwork pretraining documents, read by 'tagi pretrain' only/);
    const r2 = await run(['pretrain', '--preset=smoke', `--model=${t5Dir}`, `--data=${P3}`, `--run-dir=${path.join(tmp, 'x2')}`]);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/is a P3 directory: rank classification, read by 'tagi eval' only/);
    // an LM-adapt preset says data 'sni', which needs its directory
    const r3 = await run(['teachers', '--preset=t5-small-lm-adapt', `--model=${t5Dir}`, `--run-dir=${path.join(tmp, 'x3')}`]);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/^tagi: --data: 'sni' needs its directory: give --data=SNI_DIR \(natural-instructions layout/);
    expect(['x1', 'x2', 'x3'].some((d) => existsSync(path.join(tmp, d)))).toBe(false);
  });
});

// the shared samples are beside the repository in this workspace; elsewhere these parts are skipped, visibly
const haveShared = existsSync(path.join(P3, 'superglue')) && existsSync(path.join(SNI, 'tasks'));

describe.skipIf(!haveShared)('tagi eval --data P3_DIR', () => {
  const evalDir = path.join(tmp, 'p3');
  it('reports rank-classification accuracy per dataset and template, equal to a direct rankReport with the same scorer', async () => {
    const hypernet = path.join(preDir, 'hypernet-pretrained', 'seed-42'); // the preset's first hypernetwork seed
    const r = await run([
      'eval',
      '--preset=smoke',
      '--backend=wasm',
      `--model=${t5Dir}`,
      `--hypernet=${hypernet}`,
      `--adapter=${adapterDir}`,
      `--data=${P3}`,
      '--prompt.max-eval-instances-per-task=1',
      `--run-dir=${evalDir}`,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /data: P3 .*super_glue\/rte, super_glue\/cb, anli_r1, anli_r2, anli_r3, super_glue\/copa, super_glue\/wsc\.fixed, super_glue\/wic \(≤ 1 rows each/,
    );
    expect(r.out).toMatch(/\| super_glue\/cb \| GPT-3 style \| 1 \| \d+\.\d \| \d+\.\d \|/);
    expect(r.out).toMatch(/No adapter: average over datasets of the median over templates: \d+\.\d \(mean scoring\), \d+\.\d \(sum scoring\)/);
    expect(
      readdirSync(evalDir)
        .filter((f) => f.startsWith('rank_results'))
        .sort(),
    ).toEqual([
      'rank_results-multitask.json',
      'rank_results-multitask.md',
      'rank_results-tagi.json',
      'rank_results-tagi.md',
      'rank_results.json',
      'rank_results.md',
    ]);

    // the reference: the same examples and scorer, straight through @tagi/eval's rankReport
    // the scoring settings of the run's own (resolved smoke) config, as p3-eval.ts takes them
    const rc = readRunConfig(evalDir);
    const smoke = { maxSourceLength: rc.prompt.maxSourceLength, maxTargetLength: rc.prompt.maxTargetLength, batchSize: rc.eval.batchSize };
    const data = await loadP3EvalData(P3, { limit: 1, seed: 42 });
    const model = await loadBaseModel(t5Dir);
    const tok = modelTokenizer(t5Dir);
    const direct = await rankReport(data.examples as never, t5ChoiceScorer(model, tok, smoke));
    const written = JSON.parse(readFileSync(path.join(evalDir, 'rank_results.json'), 'utf8')) as Record<string, unknown>;
    expect(stripMeta(path.join(evalDir, 'rank_results.json'))).toEqual(JSON.parse(JSON.stringify({ ...rankReportToJson(direct), meta: undefined })));
    expect(written['meta']).toMatchObject({ method: 'no-adapter', model: t5Dir, data: P3, rowsPerDataset: 1 });
    expect(direct.datasets.map((d) => d.dataset)).toHaveLength(8);
    expect(direct.templates.length).toBeGreaterThan(50);
    // --adapter: the same, with the adapter's deltas in every forward
    const adapter = await loadCheckedAdapter(adapterDir, model);
    const withAdapter = await rankReport(data.examples as never, t5ChoiceScorer(model, tok, { ...smoke, extras: () => ({ adapters: adapter.deltas }) }));
    expect(stripMeta(path.join(evalDir, 'rank_results-multitask.json'))).toEqual(
      JSON.parse(JSON.stringify({ ...rankReportToJson(withAdapter), meta: undefined })),
    );
    expect(withAdapter.templates.map((t) => t.accuracy)).not.toEqual(direct.templates.map((t) => t.accuracy)); // the adapter is not a no-op here
    adapter.dispose();

    // the hypernetwork row: per template, an adapter generated from the template's text
    const hn = await loadCheckedHypernet(hypernet, model);
    const tagi = JSON.parse(readFileSync(path.join(evalDir, 'rank_results-tagi.json'), 'utf8')) as {
      templates: { dataset: string; template: string; accuracy: Record<string, number> }[];
    };
    expect(tagi.templates).toHaveLength(direct.templates.length);
    const instructions = await templateInstructions(P3, data.datasets);
    const inputs = new InstructionInputs(tok, { numPos: 0, maxSourceLength: smoke.maxSourceLength, maxInstructionLength: hn.config.maxInstructionLength });
    const checked = tagi.templates.filter((x) => x.dataset === 'super_glue/cb' || x.dataset === 'super_glue/copa');
    expect(checked.length).toBeGreaterThan(8);
    for (const t of checked) {
      const task = generateAdapter(hn, inputs.instructionIds(templateInstruction(instructions, t.dataset, t.template)));
      const group = data.examples.filter((e) => e.dataset === t.dataset && e.template === t.template);
      const one: RankReport = await rankReport(group as never, t5ChoiceScorer(model, tok, { ...smoke, extras: (n) => taskForwardArgs(task, n) }));
      task.dispose();
      expect(t.accuracy).toEqual(one.templates[0]!.accuracy);
    }
    hn.dispose();
    model.dispose();
  });
});

describe.skipIf(!haveShared)('--model', () => {
  let hub: HubFixture;
  const COMMIT = 'c0ffee00112233445566778899aabbccddeeff00';
  beforeAll(async () => {
    hub = await startHubFixture({ 'tagi/tiny-t5-vocab': { dir: t5Dir, commit: COMMIT } });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('takes a Hub id: downloaded once into the HF cache with progress, the same model as its directory, reused offline', async () => {
    const cache = path.join(tmp, 'hf-cache');
    Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache });
    delete process.env['HF_HUB_OFFLINE'];
    const runDir = path.join(tmp, 'p3-hub');
    const r = await run([
      'eval',
      '--preset=smoke',
      '--backend=wasm',
      '--model=tagi/tiny-t5-vocab',
      `--data=${P3}`,
      '--prompt.max-eval-instances-per-task=1',
      `--run-dir=${runDir}`,
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toContain('tagi: downloaded tagi/tiny-t5-vocab: model.safetensors');
    const snapshot = path.join(cache, 'models--tagi--tiny-t5-vocab', 'snapshots', COMMIT);
    for (const f of ['config.json', 'model.safetensors']) expect(sha256(path.join(snapshot, f))).toBe(sha256(path.join(t5Dir, f)));
    // the run records the snapshot it read, and scores exactly as the directory did
    expect(readRunState(runDir)!.inputs).toEqual([{ role: 'base-model', kind: 't5', path: snapshot }]);
    expect(stripMeta(path.join(runDir, 'rank_results.json'))).toEqual(stripMeta(path.join(tmp, 'p3', 'rank_results.json')));
    // generate's --model takes the id too (served from the cache now): the hypernet accepts it as the base it was trained on
    const g = await run(
      [
        'generate',
        `--hypernet=${path.join(preDir, 'hypernet-pretrained', 'seed-42')}`,
        '--model=tagi/tiny-t5-vocab',
        '--instruction=Return the last word.',
        '--out=~/adapter-from-id',
        '--backend=wasm',
      ],
      '/',
    );
    expect(g.code, g.err).toBe(0);
    expect(existsSync(path.join(tmp, 'adapter-from-id', 'adapter_config.json'))).toBe(true);

    // offline: the cache serves the id, no request is made; a fresh cache is a clear miss (exit 2, nothing created)
    process.env['HF_HUB_OFFLINE'] = '1';
    const requests = hub.requests.length;
    const inv = parseInvocation(['eval', '--preset=smoke', '--model=tagi/tiny-t5-vocab', `--run-dir=${path.join(tmp, 'never')}`], captureIO());
    const ready = await prepareInputs(inv as never);
    expect((ready as { config: { model: string } }).config.model).toBe(snapshot);
    expect(hub.requests.length).toBe(requests);
    process.env['HF_HUB_CACHE'] = path.join(tmp, 'empty-cache');
    const miss = await run(['eval', '--preset=smoke', '--model=tagi/tiny-t5-vocab', `--run-dir=${path.join(tmp, 'never')}`]);
    expect(miss.code).toBe(2);
    expect(miss.err).toMatch(/^tagi: --model=tagi\/tiny-t5-vocab: .*HF_HUB_OFFLINE.*; unset HF_HUB_OFFLINE to download it, or give a local directory\n$/);
    delete process.env['HF_HUB_OFFLINE'];
    const unknown = await run(['eval', '--preset=smoke', '--model=tagi/no-such-model', `--run-dir=${path.join(tmp, 'never')}`]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^tagi: --model=tagi\/no-such-model: .*; check the id/);
    expect(existsSync(path.join(tmp, 'never'))).toBe(false);
  });

  it('refuses a model whose vocabulary the tokenizer overflows, before creating anything (`~` expanded)', async () => {
    expect(resolvePath('/elsewhere', '~/v256')).toBe(v256Dir);
    const r = await run(['eval', '--preset=smoke', '--model=~/v256', `--data=${SNI}`, '--run-dir=~/v256-run'], '/');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `tagi: --model: '${v256Dir}' has vocab_size 256 (config.json), but the standard T5 tokenizer (the dir has no tokenizer.json or pruned_vocab.json) produces ids up to 32099: ` +
        "the model cannot read this tokenizer's ids. Put the tokenizer the model was trained with beside it (a base trained by 'tagi base' carries pruned_vocab.json), or use a model with the T5 vocabulary (32,128 rows)\n",
    );
    expect(existsSync(path.join(tmp, 'v256-run'))).toBe(false);
  });
});
