// Check (not a test; needs Python with torch, transformers, peft): do the README's Python recipes reproduce the
// TAGI student from an export? A tiny random T5 is saved as an HF directory, one hypernetwork per fusion kind
// (fusion weights randomised) exports an adapter, the TAGI logits are computed here, and
// experiments/export_python_check.py recomputes them in PyTorch from the files alone: base + peft
// (`none`), + the encoder-output prefix (`concat`), + per-block forward hooks (`cross-attention`).
//
//   cd packages/hypernet && TAGI_BENCH_PYTHON=/path/to/python npx tsx --tsconfig tsconfig.json experiments/export-python-check.ts
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Rng, initBackend } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import type { FusionKind } from '../src/config.js';
import { HyperNetwork } from '../src/hypernet.js';
import { generateAdapter, taskForwardArgs } from '../src/inference.js';
import { writeTaskAdapter } from '../src/node.js';

async function main(): Promise<void> {
  await initBackend({ backend: 'cpu' });
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'export-python-'));
  const config = makeT5Config({
    vocabSize: 64,
    dModel: 32,
    dKv: 8,
    numHeads: 4,
    dFf: 48,
    numLayers: 2,
    numDecoderLayers: 2,
    relativeAttentionNumBuckets: 8,
    relativeAttentionMaxDistance: 16,
    feedForwardProj: 'gated-gelu',
    tieWordEmbeddings: false,
    dropoutRate: 0,
  });
  const base = createRandomT5(config, 1);
  base.eval();
  base.setTrainable(false);
  await saveT5(base, path.join(dir, 'base'));
  const inputs = [
    [3, 4, 5, 1],
    [6, 7, 1, 0],
  ]; // right-padded, as the collator does
  const mask = [
    [1, 1, 1, 1],
    [1, 1, 1, 0],
  ];
  const decoder = [
    [0, 9, 10],
    [0, 11, 12],
  ];
  const cases: Record<string, unknown>[] = [];
  for (const fusion of ['none', 'concat', 'cross-attention'] as FusionKind[]) {
    const hn = new HyperNetwork(base, { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, bHeadInitStd: 0.3, fusion }, { seed: 7, baseModelName: 'tiny-random' });
    const rng = new Rng(3);
    for (const [k, p] of hn.namedParameters())
      if (k.endsWith('.o.weight') && k.startsWith('fusion_layers.'))
        tf.tidy(() =>
          p.assign(
            tf.tensor(
              Float32Array.from({ length: p.size }, () => rng.normal() * 0.3),
              p.shape,
            ),
          ),
        );
    const task = generateAdapter(hn, [20, 21, 22, 23, 24, 1]);
    const out = path.join(dir, fusion);
    await writeTaskAdapter(out, hn, task, { instruction: 'check' });
    const logits = tf.tidy(() => {
      return base
        .forward({
          inputIds: tf.tensor2d(inputs, undefined, 'int32'),
          attentionMask: tf.tensor2d(mask, undefined, 'int32'),
          decoderInputIds: tf.tensor2d(decoder, undefined, 'int32'),
          ...taskForwardArgs(task, 2),
        })
        .logits.arraySync();
    });
    cases.push({ fusion, dir: out, logits });
    task.dispose();
    hn.dispose();
  }
  await fs.writeFile(path.join(dir, 'expected.json'), JSON.stringify({ base: path.join(dir, 'base'), inputs, mask, decoder, cases }));
  const sibling = path.resolve(here, '../../../../venv/bin/python');
  const python = process.env['TAGI_BENCH_PYTHON'] ?? (existsSync(sibling) ? sibling : 'python3');
  const r = spawnSync(python, [path.join(here, 'export_python_check.py'), path.join(dir, 'expected.json')], { encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  await fs.rm(dir, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
