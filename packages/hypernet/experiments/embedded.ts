// Experiment (not a test): the paper's Table-2 rows and ablations on the embedded task suite, with a
// tiny random T5 over a pruned T5 vocabulary, on the wasm backend. Prints and writes a table of
// held-out ROUGE-L (SNI's scorer, @tagi/eval) and exact match.
//
//   cd packages/hypernet && npx tsx --tsconfig tsconfig.json experiments/embedded.ts [--key=value ...]
//
// Keys (defaults below): baseSteps trainTasks heldOutTasks trainInstances heldOutInstances rank hidden
// teacherSteps multitaskSteps pretrainSteps finetuneSteps batch lr seed out
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { rougeL, exactMatch as sniExactMatch } from '@tagi/eval';
import { AdamW, type StepRecord, initBackend } from '@tagi/tensor-core';
import { generate } from '@tagi/t5-model';
import { type PreparedTask, prepareEmbedded, pretrainBaseLm, tinyBase, trainLora } from '../src/__fixtures__/embedded-pipeline.js';
import { padIds } from '../src/batching.js';
import { HyperNetwork } from '../src/hypernet.js';
import { generateAdapter, generateWithTask } from '../src/inference.js';
import { finetuneHypernet, pretrainHypernet, studentLoss } from '../src/training.js';

const defaults = {
  baseSteps: 400,
  trainTasks: 16,
  heldOutTasks: 12,
  trainInstances: 32,
  heldOutInstances: 10,
  rank: 8,
  hidden: 128,
  teacherSteps: 40,
  multitaskSteps: 300,
  pretrainSteps: 100,
  finetuneSteps: 250,
  batch: 8,
  lr: 3e-3,
  seed: 0,
  out: 'experiments/results',
};
type Opts = typeof defaults;

function parseArgs(argv: string[]): Opts {
  const o: Record<string, unknown> = { ...defaults };
  for (const a of argv) {
    const m = /^--(\w+)=(.*)$/.exec(a);
    if (!m || !(m[1]! in defaults)) throw new Error(`unknown argument ${a}; keys: ${Object.keys(defaults).join(', ')}`);
    o[m[1]!] = typeof defaults[m[1] as keyof Opts] === 'number' ? Number(m[2]) : m[2];
  }
  return o as Opts;
}

const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const backend = await initBackend({ backend: 'wasm' });
  log('backend', backend.backend, JSON.stringify(o));
  const prep = prepareEmbedded({
    seed: o.seed,
    trainTasks: o.trainTasks,
    heldOutTasks: o.heldOutTasks,
    trainInstances: o.trainInstances,
    heldOutInstances: o.heldOutInstances,
  });
  const tok = prep.tokenizer;
  log(`suite: ${prep.train.length} train tasks, ${prep.heldOut.length} held-out tasks, pruned vocab ${tok.vocabSize}`);
  const base = tinyBase(tok.vocabSize, o.seed, 'small');
  // stage 0 (experiment only): the random base learns the suite's language by prefix LM on documents
  const lm = await pretrainBaseLm(base, prep.documents, { steps: o.baseSteps, batchSize: o.batch, lr: 3e-3, seed: o.seed });
  log(`stage 0: base prefix-LM loss ${lm[0]?.toFixed(3)} → ${lm.at(-1)?.toFixed(3)}`);

  // stage 1: task LoRA teachers (bare input) and the instruction-concatenated multitask model
  const teachers = new Map<string, Awaited<ReturnType<typeof trainLora>>['adapter']>();
  for (const [i, t] of prep.train.entries()) {
    const r = await trainLora(base, [t], { rank: o.rank, steps: o.teacherSteps, batchSize: o.batch, lr: 1e-2, seed: i, input: 'student' });
    teachers.set(t.taskId, r.adapter);
  }
  log(`stage 1: ${teachers.size} task teachers`);
  const multitask = await trainLora(base, prep.train, { rank: o.rank, steps: o.multitaskSteps, batchSize: o.batch, lr: 1e-2, seed: 99, input: 'concat' });
  log(`stage 1: multitask concat model, loss ${multitask.losses[0]?.toFixed(3)} → ${multitask.losses.at(-1)?.toFixed(3)}`);

  const decode = (rows: number[][]) => rows.map((r) => tok.decode(r, { skipSpecialTokens: true }).trim());
  const score = (preds: string[], refs: (readonly string[])[]) => ({
    rougeL: preds.reduce((s, p, i) => s + rougeL(p, refs[i] as string[]), 0) / preds.length,
    em: preds.reduce((s, p, i) => s + sniExactMatch(p, refs[i] as string[]), 0) / preds.length,
  });
  const maxNewTokens = 16;

  async function evalPlain(useMultitask: boolean): Promise<{ rougeL: number; em: number }> {
    const preds: string[] = [];
    const refs: (readonly string[])[] = [];
    for (const t of prep.heldOut) {
      const x = padIds(
        t.examples.map((e) => (useMultitask ? (e.teacherInputIds as number[]) : e.inputIds)),
        base.config.padTokenId,
      );
      const res = await generate(base, x.ids, x.mask, { maxNewTokens, adapters: useMultitask ? multitask.adapter.deltas : undefined });
      tf.dispose([x.ids, x.mask]);
      preds.push(...decode(res.sequences));
      refs.push(...t.examples.map((e) => e.outputs));
    }
    return score(preds, refs);
  }

  async function evalHypernet(hn: HyperNetwork): Promise<{ rougeL: number; em: number }> {
    const preds: string[] = [];
    const refs: (readonly string[])[] = [];
    for (const t of prep.heldOut) {
      const task = generateAdapter(hn, t.instructionIds); // once per task
      preds.push(
        ...decode(
          await generateWithTask(
            hn,
            task,
            t.examples.map((e) => e.inputIds),
            { maxNewTokens },
          ),
        ),
      );
      refs.push(...t.examples.map((e) => e.outputs));
      task.dispose();
    }
    return score(preds, refs);
  }

  const rows: { method: string; rougeL: number; em: number; heldOutCe?: number }[] = [];
  rows.push({ method: 'No adapter', ...(await evalPlain(false)) });
  rows.push({ method: 'Instruction-concatenated multitask (Tk-Instruct analogue)', ...(await evalPlain(true)) });
  log('baselines done');

  // stage 2 once per fusion setting, shared by the variants that use it
  const pretrained = new Map<string, Map<string, tf.Tensor>>();
  const hnConfig = (fusion: 'concat' | 'none') => ({
    rank: o.rank,
    loraAlpha: o.rank,
    hiddenDim: o.hidden,
    moduleEmbeddingDim: 32,
    fusion,
    maxInstructionLength: 256,
  });
  for (const fusion of ['concat', 'none'] as const) {
    const hn = new HyperNetwork(base, hnConfig(fusion), { seed: o.seed });
    const opt = new AdamW(hn.namedParameters(), { lr: o.lr, weightDecay: 0 });
    const records: StepRecord[] = [];
    await pretrainHypernet({
      hypernet: hn,
      documents: prep.documents,
      steps: o.pretrainSteps,
      batchSize: o.batch,
      optimizer: opt,
      seed: o.seed,
      maxGradNorm: 1,
      split: { instruction: [16, 48], input: [8, 32], target: [4, 12] },
      onStep: (r) => void records.push(r),
    });
    opt.dispose();
    log(`stage 2 (${fusion}): loss ${records[0]?.loss.toFixed(3)} → ${records.at(-1)?.loss.toFixed(3)}`);
    pretrained.set(fusion, new Map(hn.namedParameters().map(([k, v]) => [k, v.clone()])));
    hn.dispose();
  }

  const variants: { method: string; fusion: 'concat' | 'none'; pretrain: boolean; lambdaKl: number; lambdaIns: number }[] = [
    { method: 'Hypernet, CE only (HINT-like)', fusion: 'concat', pretrain: true, lambdaKl: 0, lambdaIns: 0 },
    { method: 'TAGI', fusion: 'concat', pretrain: true, lambdaKl: 1, lambdaIns: 1 },
    { method: 'TAGI w/o pretraining', fusion: 'concat', pretrain: false, lambdaKl: 1, lambdaIns: 1 },
    { method: 'TAGI w/o fusion', fusion: 'none', pretrain: true, lambdaKl: 1, lambdaIns: 1 },
    { method: 'TAGI w/o L_kl', fusion: 'concat', pretrain: true, lambdaKl: 0, lambdaIns: 1 },
    { method: 'TAGI w/o L_ins', fusion: 'concat', pretrain: true, lambdaKl: 1, lambdaIns: 0 },
  ];
  const ftTasks: PreparedTask[] = prep.train.map((t) => ({ ...t, teacherAdapters: teachers.get(t.taskId)!.deltas }));
  for (const v of variants) {
    const hn = new HyperNetwork(base, hnConfig(v.fusion), { seed: o.seed });
    if (v.pretrain) hn.loadStateDict(pretrained.get(v.fusion)!);
    const opt = new AdamW(hn.namedParameters(), { lr: o.lr, weightDecay: 0 });
    const records: StepRecord[] = [];
    await finetuneHypernet({
      hypernet: hn,
      tasks: ftTasks,
      steps: o.finetuneSteps,
      batchSize: o.batch,
      optimizer: opt,
      seed: o.seed,
      maxGradNorm: 1,
      loss: { lambdaKl: v.lambdaKl, lambdaIns: v.lambdaIns, temperature: 2 },
      teacher: v.lambdaKl > 0 ? { sources: ['concat', 'lora'], concatAdapters: multitask.adapter.deltas, cache: true } : undefined,
      onStep: (r) => void records.push(r),
    });
    opt.dispose();
    const last = records.slice(-20);
    const avg = (f: (x: StepRecord) => number | undefined) => last.reduce((s, x) => s + (f(x) ?? 0), 0) / last.length;
    log(
      `${v.method}: last-20 loss ${avg((x) => x.loss).toFixed(3)} (ce ${avg((x) => x.terms['ce']).toFixed(3)}, kl ${avg((x) => x.terms['kl']).toFixed(3)}, ins ${avg((x) => x.terms['ins']).toExponential(2)})`,
    );
    const heldOutCe = studentLoss(hn, prep.heldOut);
    rows.push({ method: v.method, ...(await evalHypernet(hn)), heldOutCe });
    hn.dispose();
  }

  const minutes = (Date.now() - t0) / 60000;
  const header = '| Method | ROUGE-L | EM | held-out student CE |\n|---|---:|---:|---:|';
  const table = [
    header,
    ...rows.map((r) => `| ${r.method} | ${r.rougeL.toFixed(2)} | ${r.em.toFixed(2)} | ${r.heldOutCe === undefined ? '–' : r.heldOutCe.toFixed(3)} |`),
  ].join('\n');
  console.log(`\n${table}\n\n${minutes.toFixed(1)} min on ${backend.backend}`);
  await fs.mkdir(o.out, { recursive: true });
  await fs.writeFile(path.join(o.out, 'embedded.md'), `${table}\n\nSettings: ${JSON.stringify(o)}; ${minutes.toFixed(1)} min on ${backend.backend}.\n`);
  await fs.writeFile(path.join(o.out, 'embedded.json'), `${JSON.stringify({ settings: o, backend: backend.backend, minutes, rows }, null, 2)}\n`);
  for (const m of pretrained.values()) tf.dispose([...m.values()]);
  for (const a of teachers.values()) a.dispose();
  multitask.adapter.dispose();
  base.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
