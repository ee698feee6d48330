// End to end: `tagi demo --preset smoke` writes every artefact; the run dir, its model, adapters and
// hypernets are inspectable; generate writes a peft dir; a hypernet refuses another base model; an
// interrupted run resumed with --resume ends with the same weights as an uninterrupted one.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import { describe, expect, it } from 'vitest';
import { validateConfig } from './config.js';
import { main } from './main.js';
import { readMetrics } from './metrics.js';
import type { Results } from './results.js';
import { captureIO } from './test-helpers.js';

async function run(argv: string[], signal?: AbortSignal, onOut?: (s: string) => void) {
  const io = captureIO(signal, onOut);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const base = mkdtempSync(path.join(tmpdir(), 'tagi-demo-'));
const runDir = path.join(base, 'demo');

describe('tagi demo --preset smoke', () => {
  it('runs every stage and writes results, metrics, curves and config', async () => {
    const r = await run(['demo', '--preset=smoke', '--backend=cpu', `--run-dir=${runDir}`]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^backend: cpu/);
    expect(r.out).not.toMatch(/UNAVAILABLE/);
    const results = JSON.parse(readFileSync(path.join(runDir, 'results.json'), 'utf8')) as Results;
    expect(results.methods.map((m) => m.label)).toEqual(['No adapter', 'Instruction-concatenated multitask', 'Hypernet w/o distillation (HINT-like)', 'TAGI']);
    for (const m of results.methods) {
      expect(m.status).toBe('ok');
      // an exact match scores ROUGE-L 100 on its instance, so the averages keep this order
      expect(m.rougeL).toBeGreaterThanOrEqual(m.exactMatch ?? Number.POSITIVE_INFINITY);
      expect(m.instances).toBe(results.heldOutInstances);
      expect(m.relWallClock).toBeGreaterThan(0);
    }
    // the hypernet rows never re-read the instruction: fewer FLOPs per instance than concatenation
    const byId = Object.fromEntries(results.methods.map((m) => [m.method, m]));
    expect(byId['tagi']!.relFlops).toBeLessThan(1);
    expect(byId['hint']!.relFlops).toBeLessThan(1);
    const md = readFileSync(path.join(runDir, 'results.md'), 'utf8');
    expect(md).toMatch(/\| TAGI \| \d+\.\d\d \| \d+\.\d\d \| ×\d+\.\d\d \| ×\d+\.\d\d \|/);
    expect(r.out).toContain('| Method | ROUGE-L | EM |');

    const stages = new Set(readMetrics(path.join(runDir, 'metrics.jsonl')).map((e) => e.stage.split(' ')[0]!.split('/')[0]));
    for (const s of ['base', 'teachers', 'multitask', 'hypernet-pretrain', 'hypernet-tagi', 'hypernet-hint']) expect(stages).toContain(s);
    const tagiSteps = readMetrics(path.join(runDir, 'metrics.jsonl')).filter((e) => e.stage === 'hypernet-tagi' && e.event === undefined);
    expect(Object.keys(tagiSteps[0]!.losses)).toEqual(expect.arrayContaining(['loss', 'ce', 'kl', 'ins']));

    const svg = readFileSync(path.join(runDir, 'curves.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<path [\s\S]*<\/svg>\n$/);
    const cfg = validateConfig(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')), 'config.json');
    expect(cfg.preset).toBe('smoke');
    const state = JSON.parse(readFileSync(path.join(runDir, 'trainer_state.json'), 'utf8'));
    for (const s of ['data', 'base', 'teachers', 'multitask', 'hypernet-pretrain', 'tagi', 'hint', 'eval']) expect(state.stages[s].status).toBe('done');
    for (const d of ['base-model/model.safetensors', 'multitask-adapter/adapter_model.safetensors', 'hypernet-tagi/hypernet.safetensors', 'hypernet-hint/hypernet_config.json']) {
      expect(existsSync(path.join(runDir, d))).toBe(true);
    }
  });

  it('inspect summarises the run, model, adapter and hypernet dirs', async () => {
    let r = await run(['inspect', runDir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/run dir[\s\S]*tagi\s+done/);
    r = await run(['inspect', path.join(runDir, 'base-model')]);
    expect(r.out).toMatch(/T5 model dir[\s\S]*d_model: 16[\s\S]*pruned_vocab\.json: \d+ of 32128 ids kept/);
    r = await run(['inspect', path.join(runDir, 'multitask-adapter')]);
    expect(r.out).toMatch(/peft adapter dir[\s\S]*\n {2}r: 2\n/);
    r = await run(['inspect', path.join(runDir, 'hypernet-tagi')]);
    expect(r.out).toMatch(/hypernet dir[\s\S]*hypernet\.safetensors: \d+ tensors/);
  });

  it('generate writes a peft adapter; a hypernet refuses another base model', async () => {
    const out = path.join(base, 'adapter');
    let r = await run([
      'generate',
      '--backend=cpu',
      `--model=${path.join(runDir, 'base-model')}`,
      `--hypernet=${path.join(runDir, 'hypernet-tagi')}`,
      '--instruction=Definition: Return the last word of the input.',
      `--out=${out}`,
      `--run-dir=${path.join(base, 'gen-run')}`,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const cfg = JSON.parse(readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
    expect(cfg.peft_type).toBe('LORA');
    expect(existsSync(path.join(out, 'adapter_model.safetensors'))).toBe(true);

    const other = path.join(base, 'other-t5');
    await saveT5(createRandomT5(makeT5Config({ vocabSize: 64, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1, numDecoderLayers: 1 }), 1), other);
    r = await run(['eval', '--backend=cpu', `--model=${other}`, `--hypernet=${path.join(runDir, 'hypernet-tagi')}`, `--run-dir=${path.join(base, 'eval-other')}`, '--preset=smoke']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/trained on a different base model/);
  });
});

const shared = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared');
describe.skipIf(!existsSync(path.join(shared, 'data', 'sni', 'tasks')))('real SNI data (../shared/data/sni; skipped when absent)', () => {
  it('eval --data=<SNI dir> scores the test-split tasks present', async () => {
    const r = await run(['eval', '--preset=smoke', '--backend=cpu', `--data=${path.join(shared, 'data', 'sni')}`, `--model=${path.join(runDir, 'base-model')}`, `--run-dir=${path.join(base, 'sni-eval')}`]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/3 training tasks .* 6 held-out tasks/);
    const results = JSON.parse(readFileSync(path.join(base, 'sni-eval', 'results.json'), 'utf8')) as Results;
    expect(results.methods.map((m) => m.method)).toEqual(['no-adapter']);
    expect(results.heldOutTasks).toBe(6);
  });
});

describe('resume', () => {
  const cmd = (dir: string) => ['pretrain', '--preset=smoke', '--backend=cpu', `--run-dir=${dir}`, '--base.train.steps=6', '--checkpoint-every=0'];

  it('an interrupted run resumed with --resume ends with the same weights as an uninterrupted one', async () => {
    const full = path.join(base, 'full');
    expect((await run(cmd(full))).code).toBe(0);

    const part = path.join(base, 'part');
    const controller = new AbortController();
    const first = await run(cmd(part), controller.signal, (s) => {
      if (s.includes('[base] step 3/6')) controller.abort(); // Ctrl-C during base pretraining
    });
    expect(first.code).toBe(130);
    expect(first.err).toMatch(/interrupted: checkpoint saved to .*step-000003/);
    expect(existsSync(path.join(part, 'base-model'))).toBe(false);

    const second = await run(['pretrain', '--resume', `--run-dir=${part}`]);
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/\[base\] resuming at step 3\/6/);
    for (const f of ['base-model/model.safetensors', 'hypernet-pretrained/hypernet.safetensors']) {
      expect(readFileSync(path.join(part, f)).equals(readFileSync(path.join(full, f)))).toBe(true);
    }
  });
});
