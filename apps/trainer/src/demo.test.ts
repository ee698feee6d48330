// End to end: `tagi demo --preset smoke` writes every artefact and records them by role; the run dir,
// its model, adapters and hypernets are inspectable; `generate` writes a peft dir from a hypernetwork
// alone (no --model, no run dir) and feeds it exactly the ids training fed it for the same task; a
// hypernet refuses another base model; a stopped `tagi base` resumed with --resume ends byte-identical.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finetuneObjective } from '@tagi/hypernet';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import { readRunState, runArtifacts } from '@tagi/run-dir/node';
import { describe, expect, it } from 'vitest';
import { validateConfig } from './config/config.js';
import { loadTaskData, modelTokenizer } from './data/tasks.js';
import { main } from './cli/main.js';
import { readMetrics } from './run/metrics.js';
import { loadBaseModel, loadCheckedHypernet } from './data/models.js';
import { resolveConfig } from './config/resolve.js';
import type { RunFacts } from './results/results.js';
import { rougeL, summaryFromJson } from '@tagi/eval';
import { generate } from './stages/generate.js';
import { finetuneTasks } from './stages/hypernet.js';
import { captureIO } from './common/test-helpers.js';

async function run(argv: string[], opts: { signal?: AbortSignal; onOut?: (s: string) => void; cwd?: string } = {}) {
  const io = { ...captureIO(opts.signal, opts.onOut), ...(opts.cwd ? { cwd: opts.cwd } : {}) };
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const base = mkdtempSync(path.join(tmpdir(), 'tagi-demo-'));
const runDir = path.join(base, 'demo');

describe('tagi demo --preset smoke', () => {
  it('runs every stage, writes results, metrics, curves and config, and records its artefacts by role', async () => {
    const r = await run(['demo', '--preset=smoke', '--backend=cpu', `--run-dir=${runDir}`]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^backend: cpu/);
    const { summary, meta } = summaryFromJson(JSON.parse(readFileSync(path.join(runDir, 'results.json'), 'utf8')));
    const facts = meta as unknown as RunFacts;
    const methods = summary.rows.filter((x) => x.kind === 'method');
    expect(methods.map((m) => m.label)).toEqual([
      'No adapter',
      'Instruction-concatenated multitask',
      'Hypernet w/o distillation (HINT-like)',
      'TAGI',
      "TAGI, another task's instruction (control)",
      'TAGI, empty instruction (control)',
    ]);
    expect(summary.rows.filter((x) => x.kind === 'reference').map((m) => m.method)).toEqual(['copy-input', 'majority', 'instruction-blind']);
    // one column per evaluation setting, holding exactly the data's tasks and instances
    const config = resolveConfig({ preset: 'smoke' });
    const data = await loadTaskData(config, () => {});
    expect(summary.columns.map((c) => [c.key, c.tasks, c.instances])).toEqual(
      data.evalSets.map((s) => [s.split, s.tasks.length, s.tasks.reduce((n, t) => n + t.instances.length, 0)]),
    );
    expect(summary.columns.map((c) => c.key)).toEqual(['seen-train', 'seen-new', 'heldout-combination', 'heldout-family']);
    // the records reach the summary unchanged: the copy-input row equals ROUGE-L of the inputs computed here
    for (const set of data.evalSets) {
      const rows = set.tasks.flatMap((t) => t.instances);
      const want = rows.reduce((a, i) => a + rougeL(i.input, [...i.outputs]), 0) / rows.length;
      expect(summary.rows.find((x) => x.method === 'copy-input')!.scores[set.split]!.rougeL!.estimate).toBeCloseTo(want, 9);
    }
    // the hypernetwork rows carry every seed; the others are trained once
    expect(methods.map((m) => m.seeds)).toEqual([[], [], ['42', '43'], ['42', '43'], ['42', '43'], ['42', '43']]);
    expect(facts.hypernetSeeds).toEqual([42, 43]);
    for (const m of methods) {
      for (const col of summary.columns) {
        const sc = m.scores[col.key]!;
        expect(sc.rougeL!.tasks).toBe(col.tasks);
        // an exact match scores ROUGE-L 100 on its instance, so the averages keep this order
        expect(sc.rougeL!.estimate).toBeGreaterThanOrEqual(sc.exactMatch!.estimate - 1e-9);
        expect(sc.rougeL!.lo!).toBeLessThanOrEqual(sc.rougeL!.estimate);
        expect(sc.rougeL!.hi!).toBeGreaterThanOrEqual(sc.rougeL!.estimate);
      }
    }
    expect(summary.differences.map((d) => [d.a, d.b])).toEqual([
      ['tagi', 'no-adapter'],
      ['tagi', 'hint'],
      ['tagi', 'multitask'],
      ['tagi', 'tagi-wrong-instruction'],
      ['tagi', 'tagi-empty-instruction'],
    ]);
    // the hypernet rows never re-read the instruction: fewer FLOPs per instance than concatenation
    expect(facts.cost['tagi']!.relativeFlops).toBeLessThan(1);
    expect(facts.cost['hint']!.relativeFlops).toBeLessThan(1);
    expect(facts.cost['multitask']!.relativeFlops).toBe(1);
    // wall time per stage, in the order the stages ran, and the load the run shared the cores with
    expect(facts.stages.map((x) => x.id.split('/')[0])).toEqual(
      expect.arrayContaining(['base', 'teachers', 'multitask', 'hypernet-pretrained', 'hypernet-tagi', 'hypernet-hint', 'eval']),
    );
    for (const x of facts.stages) expect(x.seconds).toBeGreaterThan(0);
    expect(facts.wallClockSeconds).toBeGreaterThan(facts.stages.reduce((a, x) => a + (x.seconds ?? 0), 0) - 1e-6);
    expect(facts.backend).toBe('cpu');
    expect(facts.peakRssMB).toBeGreaterThan(0);
    const md = readFileSync(path.join(runDir, 'results.md'), 'utf8');
    expect(md).toContain(`peak RSS ${facts.peakRssMB} MB`);
    expect(md).toMatch(/\| TAGI \| 2 \| \S+ \[\S+, \S+\] \|/);
    expect(md).toContain('TAGI − No adapter');
    expect(md).toMatch(/\| hypernet-tagi\/seed-43 \| \d+\.\d \|/);
    expect(r.out).toContain('**ROUGE-L**');

    const metrics = readMetrics(path.join(runDir, 'metrics.jsonl'));
    const stages = new Set(metrics.map((e) => e.stage.split('/')[0]));
    for (const x of ['base', 'teachers', 'multitask', 'hypernet-pretrained', 'hypernet-tagi', 'hypernet-hint', 'eval']) expect(stages).toContain(x);
    const tagiSteps = metrics.filter((e) => e.stage === 'hypernet-tagi/seed-42' && e.event === undefined);
    expect(Object.keys(tagiSteps[0]!.losses)).toEqual(expect.arrayContaining(['loss', 'ce', 'kl', 'ins', 'gradNorm']));
    const hintSteps = metrics.filter((e) => e.stage === 'hypernet-hint/seed-43' && e.event === undefined);
    expect(Object.keys(hintSteps[0]!.losses).sort()).toEqual(['ce', 'gradNorm', 'loss']);

    const svg = readFileSync(path.join(runDir, 'curves.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<path [\s\S]*<\/svg>\n$/);
    const cfg = validateConfig(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')), 'config.json');
    expect(cfg.preset).toBe('smoke');
    // one run-state file, read through the one reader; artefacts by role, no directory-name guessing
    const state = readRunState(runDir)!;
    expect(state.command).toBe('demo');
    for (const x of Object.values(state.stages)) expect(x.status).toBe('done');
    const roles = (role: string) => runArtifacts(runDir, state, role).map((a) => path.relative(runDir, a.dir));
    expect(roles('base-model')).toEqual(['base-model']);
    expect(roles('multitask-adapter')).toEqual(['multitask-adapter']);
    expect(roles('hypernet-pretrained')).toEqual(['hypernet-pretrained/seed-42', 'hypernet-pretrained/seed-43']);
    expect(roles('hypernet-tagi')).toEqual(['hypernet-tagi/seed-42', 'hypernet-tagi/seed-43']);
    expect(roles('hypernet-hint')).toEqual(['hypernet-hint/seed-42', 'hypernet-hint/seed-43']);
    expect(runArtifacts(runDir, state, 'hypernet-tagi').map((a) => a.name)).toEqual(['seed-42', 'seed-43']);
    expect(roles('teacher').length).toBeGreaterThan(5);
    for (const a of runArtifacts(runDir, state)) expect(existsSync(a.dir)).toBe(true);
    // finished stages leave no checkpoints, and the lock is gone
    expect(readdirSync(runDir).sort()).toEqual([
      'base-model',
      'config.json',
      'curves.svg',
      'hypernet-hint',
      'hypernet-pretrained',
      'hypernet-tagi',
      'metrics.jsonl',
      'multitask-adapter',
      'predictions.jsonl',
      'results.json',
      'results.md',
      'teachers',
      'trainer_state.json',
    ]);
  }, 900_000); // a few minutes on 2 shared cores

  it('inspect summarises the run, model, adapter and hypernet dirs', async () => {
    let r = await run(['inspect', runDir]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /run dir .* \(tagi demo\)[\s\S]*hypernet-tagi\/seed-42\s+done[\s\S]*artefacts:[\s\S]*hypernet-tagi seed-42\s+hypernet\s+hypernet-tagi\/seed-42/,
    );
    r = await run(['inspect', path.join(runDir, 'base-model')]);
    expect(r.out).toMatch(/T5 model dir[\s\S]*d_model: 16[\s\S]*pruned_vocab\.json: \d+ of 32128 ids kept/);
    r = await run(['inspect', path.join(runDir, 'multitask-adapter')]);
    expect(r.out).toMatch(/peft adapter dir[\s\S]*\n {2}r: 2\n/);
    r = await run(['inspect', path.join(runDir, 'hypernet-tagi', 'seed-42')]);
    expect(r.out).toMatch(/hypernet dir[\s\S]*hypernet\.safetensors: \d+ tensors/);
  });

  it('generate writes a peft adapter from the hypernetwork alone: its base from the checkpoint, no run dir', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'tagi-gen-'));
    const r = await run(
      [
        'generate',
        '--backend=cpu',
        `--hypernet=${path.join(runDir, 'hypernet-tagi', 'seed-42')}`,
        '--instruction=Definition: Return the last word of the input.',
        '--out=adapters/last-word',
      ],
      { cwd },
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote peft adapter .*adapters\/last-word .*base model .*demo\/base-model/);
    const out = path.join(cwd, 'adapters', 'last-word');
    expect(JSON.parse(readFileSync(path.join(out, 'adapter_config.json'), 'utf8')).peft_type).toBe('LORA');
    expect(readdirSync(out).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'tagi_adapter.json', 'tagi_fusion.safetensors']);
    expect(readdirSync(cwd)).toEqual(['adapters']); // no runs/ dir, no lock or temp left
    expect(readdirSync(path.join(cwd, 'adapters'))).toEqual(['last-word']);
  });

  it('feeds the hypernetwork the same ids at generate time as the training batch had for the task', async () => {
    // a run that trains with the definition alone ("Def"): a user's instruction is a definition
    const config = resolveConfig({
      preset: 'smoke',
      overrides: [
        ['prompt.numPos', '0'],
        ['backend', 'cpu'],
      ],
    });
    const data = await loadTaskData(config, () => {});
    const modelDir = path.join(runDir, 'base-model');
    const tok = modelTokenizer(modelDir);
    const model = await loadBaseModel(modelDir);
    const hn = await loadCheckedHypernet(path.join(runDir, 'hypernet-tagi', 'seed-42'), model);
    const objective = finetuneObjective({ hypernet: hn, tasks: finetuneTasks(config, data, tok, undefined), batchSize: 2, loss: { lambdaKl: 0 } });
    const seen = new Map<string, readonly number[]>();
    for (let step = 0; seen.size < 3; step++) {
      const b = objective.batch({ step, micro: 0 });
      seen.set(b.task.taskId, b.task.instructionIds);
      objective.release?.(b);
    }
    for (const [taskId, trainIds] of seen) {
      const task = data.train.find((t) => t.taskId === taskId)!;
      for (const typed of [task.definition[0]!, `Definition: ${task.definition[0]}`]) {
        const g = await generate({
          hypernetDir: path.join(runDir, 'hypernet-tagi', 'seed-42'),
          instruction: typed,
          out: path.join(base, `gen-${taskId}-${typed.length}`),
        });
        expect(g.instructionIds, taskId).toEqual(trainIds);
      }
    }
    objective.dispose();
    hn.dispose();
    model.dispose();
  });

  it('a hypernet refuses another base model', async () => {
    const other = path.join(base, 'other-t5');
    // the T5 vocabulary: a model the tokenizer fits (a smaller vocab is refused before the hypernet is read)
    await saveT5(createRandomT5(makeT5Config({ vocabSize: 32128, dModel: 8, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1, numDecoderLayers: 1 }), 1), other);
    const r = await run([
      'eval',
      '--backend=cpu',
      `--model=${other}`,
      `--hypernet=${path.join(runDir, 'hypernet-tagi', 'seed-42')}`,
      `--run-dir=${path.join(base, 'eval-other')}`,
      '--preset=smoke',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/trained on a different base model/);
  });
});

const shared = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared');
describe.skipIf(!existsSync(path.join(shared, 'data', 'sni', 'tasks')))('real SNI data (../shared/data/sni; skipped when absent)', () => {
  it('eval --data=<SNI dir> scores the test-split tasks present', async () => {
    const r = await run([
      'eval',
      '--preset=smoke',
      '--backend=cpu',
      `--data=${path.join(shared, 'data', 'sni')}`,
      `--model=${path.join(runDir, 'base-model')}`,
      `--run-dir=${path.join(base, 'sni-eval')}`,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/3 training tasks .* heldout 6 tasks/);
    const { summary } = summaryFromJson(JSON.parse(readFileSync(path.join(base, 'sni-eval', 'results.json'), 'utf8')));
    expect(summary.rows.filter((x) => x.kind === 'method').map((m) => m.method)).toEqual(['no-adapter']);
    expect(summary.columns.find((c) => c.key === 'heldout')!.tasks).toBe(6);
  });
});

describe('resume', () => {
  const cmd = (dir: string) => ['base', '--preset=smoke', '--backend=cpu', `--run-dir=${dir}`, '--base.train.steps=6', '--checkpoint-every=0'];

  it('an interrupted run resumed with --resume ends with the same weights as an uninterrupted one', async () => {
    const full = path.join(base, 'full');
    expect((await run(cmd(full))).code).toBe(0);

    const part = path.join(base, 'part');
    const controller = new AbortController();
    const first = await run(cmd(part), {
      signal: controller.signal,
      onOut: (s) => {
        if (s.includes('[base] step 3/6')) controller.abort(); // Ctrl-C during base pretraining
      },
    });
    expect(first.code).toBe(130);
    expect(first.err).toMatch(/interrupted in stage base at step 3\/6: checkpoint saved in .*checkpoints\/base; continue with: tagi base --resume --run-dir=/);
    expect(existsSync(path.join(part, 'base-model'))).toBe(false);

    const second = await run(['base', '--resume', `--run-dir=${part}`]);
    expect(second.err).toBe('');
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/\[base\] resuming at step 3\/6/);
    expect(readFileSync(path.join(part, 'base-model', 'model.safetensors')).equals(readFileSync(path.join(full, 'base-model', 'model.safetensors')))).toBe(
      true,
    );
    expect(
      readMetrics(path.join(part, 'metrics.jsonl'))
        .filter((e) => e.stage === 'base' && e.event === undefined)
        .map((e) => e.step),
    ).toEqual([1, 2, 3, 4, 5, 6]);
  }, 300_000);
});
