// Experiment (not a test): how far is the peft part of an export from the TAGI student, per fusion kind?
// On the embedded suite (tiny T5 over the pruned T5 vocabulary, a short prefix-LM stage 0 so the base is not
// random, then CE finetuning of one hypernetwork per fusion kind), every held-out task's adapter is exported
// and reloaded; on its held-out instances (teacher-forced on the references) it reports
//   - TAGI vs peft-only: max |logit difference| (the full student vs base + the exported LoRA alone),
//   - the LoRA effect for scale: max |logits(base + LoRA) - logits(base)|,
//   - export round trip: max |logits(rebuilt from the export) - logits(live hypernetwork)|,
//   - greedy agreement between TAGI and peft-only (share of instances with the same output).
//
//   cd packages/hypernet && npx tsx --tsconfig tsconfig.json experiments/export-fidelity.ts [--steps=N] [--baseSteps=N]
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, initBackend } from '@tagi/tensor-core';
import { loadAdapter } from '@tagi/lora/node';
import { type PreparedTask, prepareEmbedded, pretrainBaseLm, tinyBase } from '../src/__fixtures__/embedded-pipeline.js';
import { padIds, padLabels } from '../src/batching.js';
import type { FusionKind } from '../src/config.js';
import { HyperNetwork } from '../src/hypernet.js';
import { generateAdapter, generateWithTask, taskForwardArgs } from '../src/inference.js';
import { readTaskAdapter, writeTaskAdapter } from '../src/node.js';
import { finetuneHypernet } from '../src/training.js';
import { shiftRightTensor } from '@tagi/t5-model';

const arg = (k: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d);
const STEPS = arg('steps', 150);
const BASE_STEPS = arg('baseSteps', 150);
const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

async function main(): Promise<void> {
  const t0 = Date.now();
  const backend = await initBackend({ backend: 'wasm' });
  const prep = prepareEmbedded({ trainTasks: 8, heldOutTasks: 4, trainInstances: 24, heldOutInstances: 8 });
  const base = tinyBase(prep.tokenizer.vocabSize, 0, 'small');
  const lm = await pretrainBaseLm(base, prep.documents, { steps: BASE_STEPS, batchSize: 8, lr: 3e-3, seed: 0 });
  log(
    `${backend.backend}, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; stage 0 base LM loss ${lm[0]?.toFixed(2)} → ${lm.at(-1)?.toFixed(2)}`,
  );
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'export-fidelity-'));
  const rows: Record<string, unknown>[] = [];
  for (const fusion of ['none', 'concat', 'cross-attention'] as FusionKind[]) {
    const hn = new HyperNetwork(base, { rank: 8, hiddenDim: 128, moduleEmbeddingDim: 32, fusion, maxInstructionLength: 256 }, { seed: 0 });
    const optimizer = new AdamW(hn.namedParameters(), { lr: 3e-3, weightDecay: 0 });
    let last = 0;
    await finetuneHypernet({
      hypernet: hn,
      tasks: prep.train,
      batchSize: 8,
      steps: STEPS,
      optimizer,
      loss: { lambdaKl: 0 },
      maxGradNorm: 1,
      onStep: (r) => void (last = r.loss),
    });
    optimizer.dispose();
    let tagiVsPeft = 0;
    let loraEffect = 0;
    let roundTrip = 0;
    let agree = 0;
    let instances = 0;
    for (const t of prep.heldOut as PreparedTask[]) {
      const out = path.join(dir, `${fusion}-${t.taskId}`);
      const task = generateAdapter(hn, t.instructionIds);
      await writeTaskAdapter(out, hn, task, { instruction: t.task.definition[0] ?? t.taskId });
      const peft = await loadAdapter(out, { model: base });
      const loaded = await readTaskAdapter(out, base);
      const ex = t.examples;
      tf.tidy(() => {
        const x = padIds(
          ex.map((e) => e.inputIds),
          0,
        );
        const labels = padLabels(ex.map((e) => e.labelIds));
        const dec = shiftRightTensor(labels, base.config.decoderStartTokenId, base.config.padTokenId);
        const run = (extra: object) => base.forward({ inputIds: x.ids, attentionMask: x.mask, decoderInputIds: dec, ...extra }).logits;
        const live = run(taskForwardArgs(task, ex.length));
        const rebuilt = run(taskForwardArgs(loaded, ex.length));
        const peftOnly = run({ adapters: peft.deltas });
        const plain = run({});
        // only scored positions (labels ≠ -100) count
        const m = tf.expandDims(tf.cast(tf.notEqual(labels, -100), 'float32'), -1);
        const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.mul(tf.abs(tf.sub(a, b)), m)).dataSync()[0] as number;
        tagiVsPeft = Math.max(tagiVsPeft, maxDiff(live, peftOnly));
        loraEffect = Math.max(loraEffect, maxDiff(peftOnly, plain));
        roundTrip = Math.max(roundTrip, maxDiff(live, rebuilt));
      });
      const inputs = ex.map((e) => e.inputIds);
      const a = await generateWithTask(hn, task, inputs, { maxNewTokens: 16 });
      const b = await generateWithTask(base, { ...loaded, fusion: 'none', instruction: undefined, fusionLayers: undefined }, inputs, { maxNewTokens: 16 }); // peft part only
      a.forEach((row, i) => (agree += Number(JSON.stringify(row) === JSON.stringify(b[i]))));
      instances += inputs.length;
      peft.dispose();
      loaded.dispose();
      task.dispose();
    }
    rows.push({
      fusion,
      finalTrainLoss: last,
      tagiVsPeftMaxLogitDiff: tagiVsPeft,
      loraEffectMaxLogitDiff: loraEffect,
      exportRoundTripMaxLogitDiff: roundTrip,
      greedyAgreement: agree / instances,
      instances,
    });
    log(
      `${fusion}: TAGI vs peft-only ${tagiVsPeft.toFixed(4)}, LoRA effect ${loraEffect.toFixed(4)}, round trip ${roundTrip.toExponential(1)}, greedy agreement ${agree}/${instances}`,
    );
    hn.dispose();
  }
  await fs.rm(dir, { recursive: true, force: true });
  const table = [
    '| fusion | max \\|logit\\| TAGI vs peft-only | max \\|logit\\| LoRA effect (peft-only vs base) | export round trip | greedy outputs equal (TAGI, peft-only) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r['fusion']} | ${(r['tagiVsPeftMaxLogitDiff'] as number).toFixed(4)} | ${(r['loraEffectMaxLogitDiff'] as number).toFixed(4)} | ${(r['exportRoundTripMaxLogitDiff'] as number).toExponential(1)} | ${((r['greedyAgreement'] as number) * 100).toFixed(0)}% of ${r['instances']} |`,
    ),
  ].join('\n');
  const minutes = (Date.now() - t0) / 60000;
  console.log(
    `\n${table}\n\n${minutes.toFixed(1)} min on ${backend.backend}, load ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  await fs.mkdir('experiments/results', { recursive: true });
  await fs.writeFile(
    'experiments/results/export-fidelity.md',
    `${table}\n\nSettings: steps ${STEPS}, baseSteps ${BASE_STEPS}; ${minutes.toFixed(1)} min on ${backend.backend}.\n`,
  );
  await fs.writeFile(
    'experiments/results/export-fidelity.json',
    `${JSON.stringify({ settings: { steps: STEPS, baseSteps: BASE_STEPS }, backend: backend.backend, minutes, rows }, null, 2)}\n`,
  );
  base.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
