// A run dir as `tagi demo` writes one (base-model/, a hypernet dir, the multitask LoRA, metrics, results,
// and trainer_state.json recording each artefact by role, written with @tagi/run-dir's writeRunState), with
// small RANDOM weights: it exercises every code path of the page quickly; the outputs are real model
// outputs of untrained weights, not meaningful text. Two dirs are named unlike the demo's on
// purpose: the playground must find them by role, never by name.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type HypernetConfig, HyperNetwork, TINY_HYPERNET_CONFIG } from '@tagi/hypernet';
import { saveHypernet } from '@tagi/hypernet/node';
import { AdapterSet, loraConfig } from '@tagi/lora';
import { saveAdapter } from '@tagi/lora/node';
import { initBackend } from '@tagi/tensor-core';
import { type RunArtifact, writeRunState } from '@tagi/run-dir/node';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { T5ForConditionalGeneration, saveT5 } from '@tagi/t5-model/node';

/** trainer_state.json of a finished run whose stages wrote `outputs` (one stage each). */
export async function writeDoneRunState(run: string, outputs: readonly RunArtifact[], inputs: readonly RunArtifact[] = []): Promise<void> {
  const stages = Object.fromEntries(
    outputs.map((a) => [`${a.role}${a.name ? `/${a.name}` : ''}`, { status: 'done' as const, step: 1, totalSteps: 1, outputs: [a] }]),
  );
  await writeRunState(run, { format: 'tagi-run', version: 2, command: 'demo', configHash: 'synthetic', inputs, stages });
}

/** The model shapes of a synthetic run; the default is the tests' tiny one (fast to write and to load). */
export interface SyntheticShape {
  readonly t5?: Partial<Parameters<typeof makeT5Config>[0]>;
  readonly hypernet?: Partial<HypernetConfig>;
  /** Standard deviation of the hypernet's random weights (large models need smaller ones to stay finite). */
  readonly hypernetStd?: number;
}

/** The t5-small-lm-adapt shape (T5 v1.1: gated-gelu, untied head, 8 + 8 layers) with the default hypernet: the bench's "small". */
export const T5_SMALL_SHAPE: SyntheticShape = {
  t5: {
    vocabSize: 32128,
    dModel: 512,
    dKv: 64,
    numHeads: 6,
    dFf: 1024,
    numLayers: 8,
    numDecoderLayers: 8,
    feedForwardProj: 'gated-gelu',
    tieWordEmbeddings: false,
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 128,
  },
  hypernet: {},
  hypernetStd: 0.02,
};

export async function writeSyntheticRun(run: string, shape: SyntheticShape = {}): Promise<void> {
  await initBackend({ backend: 'cpu' });
  fs.mkdirSync(run, { recursive: true });
  const lines: string[] = [];
  for (const [stage, steps, start] of [
    ['base', 8, 6],
    ['hypernet-finetune', 6, 3],
  ] as const) {
    for (let step = 1; step <= steps; step++) lines.push(JSON.stringify({ stage, step, loss: start / step, lr: 1e-3 }));
  }
  fs.writeFileSync(path.join(run, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({ preset: 'synthetic', prompt: { numPos: 1 } }));
  fs.writeFileSync(
    path.join(run, 'results.json'),
    JSON.stringify({
      rows: [
        { method: 'No adapter', rougeL: 1.5, exactMatch: 0 },
        { method: 'TAGI', rougeL: 2.5, exactMatch: 1 },
      ],
    }),
  );
  fs.writeFileSync(path.join(run, 'results.md'), '| method | ROUGE-L |\n|---|---|\n| No adapter | 1.5 |\n| TAGI | 2.5 |\n');
  const base = createRandomT5(
    makeT5Config(
      shape.t5 ?? {
        vocabSize: 32128,
        dModel: 16,
        dKv: 4,
        numHeads: 2,
        dFf: 16,
        numLayers: 1,
        relativeAttentionNumBuckets: 8,
        relativeAttentionMaxDistance: 16,
      },
    ),
    5,
  );
  await saveT5(base, path.join(run, 'base-model'));
  base.dispose();
  const reloaded = await T5ForConditionalGeneration.fromPretrained(path.join(run, 'base-model'));
  const hn = new HyperNetwork(reloaded, { ...(shape.hypernet ?? TINY_HYPERNET_CONFIG) }, { seed: 3 });
  // a fresh hypernet emits B = 0 (LoRA's zero init): seeded random weights make the adapters differ
  hn.namedParameters().forEach(([, v], i) => v.assign(tf.randomNormal(v.shape, 0, shape.hypernetStd ?? 0.2, 'float32', 100 + i)));
  await saveHypernet(path.join(run, 'hypernet'), hn);
  hn.dispose();
  const multitask = AdapterSet.create(reloaded, loraConfig({ r: 2, loraAlpha: 4, targetModules: ['q', 'v'] }));
  await saveAdapter(path.join(run, 'multitask-lora'), multitask);
  multitask.dispose();
  reloaded.dispose();
  await writeDoneRunState(run, [
    { role: 'base-model', kind: 't5', path: 'base-model' },
    { role: 'multitask-adapter', kind: 'peft', path: 'multitask-lora' },
    { role: 'hypernet-tagi', kind: 'hypernet', path: 'hypernet' },
  ]);
}
