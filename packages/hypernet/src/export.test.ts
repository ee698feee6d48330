// Self-describing exports: the peft pair + tagi_adapter.json (+ tagi_fusion.safetensors). With fusion 'none'
// the peft part alone, loaded by @tagi/lora as Python peft would, computes the TAGI student; with 'concat' and
// 'cross-attention' it does not, and the export rebuilt on the base model alone computes exactly what the live
// hypernetwork computes.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@tagi/tensor-core';
import { loadAdapter } from '@tagi/lora/node';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { padIds } from './batching.js';
import { baseModelReference } from './checkpoint.js';
import { PEFT_ONLY_HYPERNET_CONFIG } from './config.js';
import { HypernetCheckpointError, HypernetInputError } from './errors.js';
import { TAGI_ADAPTER_FILE, TAGI_FUSION_FILE, taskAdapterFiles } from './export.js';
import { HyperNetwork, disposeDeltas, disposeEncoding, fusionHook } from './hypernet.js';
import { generateAdapter, generateWithTask, taskForwardArgs } from './inference.js';
import { readTaskAdapter, saveHypernet, writeTaskAdapter } from './node.js';

let base: ReturnType<typeof tinyT5>;
let dir: string;
beforeAll(async () => {
  await useCpu();
  base = tinyT5(1);
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hypernet-export-'));
});
afterAll(async () => {
  base.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

const cfg = { rank: 2, hiddenDim: 16, moduleEmbeddingDim: 8, bHeadInitStd: 0.3 };
const instructionText = 'Reverse the words of the sentence.';
const instructionIds = [20, 21, 22, 23, 24, 1];
const inputs = [
  [3, 4, 5, 1],
  [6, 7, 1],
];
const decoder = [
  [0, 9, 10],
  [0, 11, 12],
];
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

/** A hypernetwork whose fusion matters: random weights in the zero-initialised fusion output too. */
function makeHypernet(fusion: 'none' | 'concat' | 'cross-attention'): HyperNetwork {
  const hn = new HyperNetwork(base, { ...cfg, fusion }, { seed: 7, baseModelName: 'tiny-random' });
  const rng = new Rng(3);
  for (const [k, p] of hn.namedParameters()) {
    if (k.startsWith('fusion_layers.') && k.endsWith('.o.weight'))
      tf.tidy(() =>
        p.assign(
          tf.tensor(
            Float32Array.from({ length: p.size }, () => rng.normal() * 0.3),
            p.shape,
          ),
        ),
      );
  }
  return hn;
}

/** Student logits computed as training does: the live hypernetwork's adapter, prefix and hook. */
function liveLogits(hn: HyperNetwork): tf.Tensor3D {
  return tf.tidy(() => {
    const i = padIds([instructionIds], 0);
    const enc = hn.encodeInstructions(i.ids, i.mask);
    const x = padIds(inputs, 0);
    const deltas = hn.generate(enc, { shared: true });
    const out = base.forward({
      inputIds: x.ids,
      attentionMask: x.mask,
      decoderInputIds: tf.tensor2d(decoder, undefined, 'int32'),
      adapters: deltas,
      encoderPrefix: hn.fusionPrefix(enc, inputs.length),
      encoderLayerHook: fusionHook(hn, enc),
    }).logits;
    disposeDeltas(deltas);
    disposeEncoding(enc);
    return out;
  });
}

function logitsWith(args: Partial<Parameters<typeof base.forward>[0]>): tf.Tensor3D {
  return tf.tidy(() => {
    const x = padIds(inputs, 0);
    return base.forward({ inputIds: x.ids, attentionMask: x.mask, decoderInputIds: tf.tensor2d(decoder, undefined, 'int32'), ...args }).logits;
  });
}

describe.each(['none', 'concat', 'cross-attention'] as const)("export with fusion '%s'", (fusion) => {
  it('writes the peft pair and a tagi_adapter.json that names the instruction, the hypernetwork, the base model and the fusion', async () => {
    const hn = makeHypernet(fusion);
    const out = path.join(dir, `describe-${fusion}`);
    const task = generateAdapter(hn, instructionIds);
    const meta = await writeTaskAdapter(out, hn, task, { instruction: instructionText, hypernetName: 'runs/x/hypernet' });
    task.dispose();
    const names = (await fs.readdir(out)).sort();
    expect(names).toEqual(['adapter_config.json', 'adapter_model.safetensors', TAGI_ADAPTER_FILE, ...(fusion === 'none' ? [] : [TAGI_FUSION_FILE])].sort());
    const json = JSON.parse(await fs.readFile(path.join(out, TAGI_ADAPTER_FILE), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([...Object.keys(json)].sort());
    expect(json).toMatchObject({
      format: 'tagi-adapter',
      format_version: 1,
      instruction: instructionText,
      instruction_ids: instructionIds,
      fusion,
      peft_reproduces_tagi: fusion === 'none',
      files: { fusion: fusion === 'none' ? null : TAGI_FUSION_FILE, peft: ['adapter_config.json', 'adapter_model.safetensors'] },
      hypernet: { name: 'runs/x/hypernet', config: { fusion, rank: 2 } },
    });
    expect(meta.peftReproducesTagi).toBe(fusion === 'none');
    // the hypernetwork hash is the SHA-256 of the weights file saveHypernet writes
    await saveHypernet(path.join(out, 'hn'), hn);
    const fileHash = createHash('sha256')
      .update(await fs.readFile(path.join(out, 'hn', 'hypernet.safetensors')))
      .digest('hex');
    expect((json['hypernet'] as { weights_sha256: string }).weights_sha256).toBe(fileHash);
    const ref = baseModelReference(base, 'tiny-random');
    expect(json['base_model']).toEqual({ config_hash: ref.configHash, name: 'tiny-random', shape: ref.shape, weights_fingerprint: ref.weightsFingerprint });
    hn.dispose();
  });

  it(
    fusion === 'none'
      ? 'the peft part alone (loaded as peft) computes the TAGI student exactly'
      : 'the export rebuilt on the base alone equals the live hypernetwork; the peft part alone does not',
    async () => {
      const hn = makeHypernet(fusion);
      const out = path.join(dir, `forward-${fusion}`);
      const task = generateAdapter(hn, instructionIds);
      await writeTaskAdapter(out, hn, task, { instruction: instructionText });
      const before = tf.memory().numTensors;
      const live = liveLogits(hn);
      const peft = await loadAdapter(out, { model: base }); // what Python peft loads: the LoRA factors only
      const peftOnly = logitsWith({ adapters: peft.deltas });
      const loaded = await readTaskAdapter(out, base);
      expect(loaded.meta.fusion).toBe(fusion);
      const rebuilt = tf.tidy(() => logitsWith(taskForwardArgs(loaded, inputs.length)));
      const plain = logitsWith({});
      const loraEffect = maxAbsDiff(peftOnly, plain);
      expect(loraEffect).toBeGreaterThan(1e-3); // the adapter does something (the checks below are not vacuous)
      expect(maxAbsDiff(rebuilt, live)).toBeLessThanOrEqual(1e-6);
      if (fusion === 'none') expect(maxAbsDiff(peftOnly, live)).toBeLessThanOrEqual(1e-6);
      else expect(maxAbsDiff(peftOnly, live)).toBeGreaterThan(1e-3);
      // greedy decoding from the export equals decoding from the live hypernetwork
      const fromExport = await generateWithTask(base, loaded, inputs, { maxNewTokens: 4, eosTokenId: -1 });
      const fromLive = await generateWithTask(hn, task, inputs, { maxNewTokens: 4, eosTokenId: -1 });
      expect(fromExport).toEqual(fromLive);
      tf.dispose([live, peftOnly, rebuilt, plain]);
      peft.dispose();
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(before); // loading and using an export leaks nothing
      task.dispose();
      hn.dispose();
    },
  );
});

describe('export errors', () => {
  it('name the argument or the file and what was expected', async () => {
    const hn = makeHypernet('cross-attention');
    const task = generateAdapter(hn, instructionIds);
    await expect(taskAdapterFiles(hn, task, { instruction: ' ' })).rejects.toThrow(HypernetInputError);
    const other = makeHypernet('concat');
    await expect(taskAdapterFiles(other, task, { instruction: instructionText })).rejects.toThrow(/task: expected an adapter generated by this hypernetwork/);
    other.dispose();
    const out = path.join(dir, 'errors');
    await writeTaskAdapter(out, hn, task, { instruction: instructionText });
    task.dispose();
    // another base model of the same shape: refused unless asked for
    const reseeded = tinyT5(2);
    await expect(readTaskAdapter(out, reseeded)).rejects.toThrow(/generated for a base model with other weights/);
    (await readTaskAdapter(out, reseeded, { allowDifferentBaseWeights: true })).dispose();
    reseeded.dispose();
    const smaller = tinyT5(1, { dFf: 40 });
    await expect(readTaskAdapter(out, smaller)).rejects.toThrow(/d_ff \(export 48, model 40\)/);
    smaller.dispose();
    // a missing fusion file, a damaged description
    await fs.rename(path.join(out, TAGI_FUSION_FILE), path.join(out, 'moved.safetensors'));
    await expect(readTaskAdapter(out, base)).rejects.toThrow(new RegExp(`${TAGI_FUSION_FILE}: missing from the export`));
    await fs.rename(path.join(out, 'moved.safetensors'), path.join(out, TAGI_FUSION_FILE));
    const metaFile = path.join(out, TAGI_ADAPTER_FILE);
    const json = JSON.parse(await fs.readFile(metaFile, 'utf8')) as Record<string, unknown>;
    await fs.writeFile(metaFile, JSON.stringify({ ...json, fusion: 'film' }));
    await expect(readTaskAdapter(out, base)).rejects.toThrow(HypernetCheckpointError);
    await expect(readTaskAdapter(out, base)).rejects.toThrow(/fusion: expected 'none', 'concat' or 'cross-attention'/);
    hn.dispose();
  });

  it('PEFT_ONLY_HYPERNET_CONFIG is the fusion-free hypernetwork whose exports say peft reproduces TAGI', async () => {
    const hn = new HyperNetwork(base, { ...cfg, ...PEFT_ONLY_HYPERNET_CONFIG });
    expect(hn.config.fusion).toBe('none');
    const task = generateAdapter(hn, instructionIds);
    expect(task.instruction).toBeUndefined();
    const { files, meta } = await taskAdapterFiles(hn, task, { instruction: instructionText });
    expect(meta.peftReproducesTagi).toBe(true);
    expect(files.has(TAGI_FUSION_FILE)).toBe(false);
    task.dispose();
    hn.dispose();
  });
});
