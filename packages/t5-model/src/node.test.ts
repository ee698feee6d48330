// Checkpoint IO: HF directories in and out, every loading fault reported clearly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateDictError, parseSafetensors, serializeSafetensors, f16ToF32, bf16ToF32 } from '@tagi/tensor-core';
import { int2d, useBackend } from '@tagi/tensor-core/testing';
import { T5ConfigError } from './config.js';
import { T5InputError, createRandomT5 } from './model.js';
import { makeT5Config } from './config.js';
import { T5ForConditionalGeneration, T5LoadError, loadVocabMap, savePretrained } from './node.js';
import { buildVocabMap } from './vocab.js';
import { BatchIdError, collateIds } from './collator.js';

const fixtures = path.resolve(import.meta.dirname, '..', '__fixtures__', 't5');
const tied = path.join(fixtures, 'tiny-relu-tied');
const untied = path.join(fixtures, 'tiny-gated-untied');
let tmp: string;

function readFile(file: string): Map<string, tf.Tensor> {
  return parseSafetensors(new Uint8Array(fs.readFileSync(file))).tensors;
}

function makeDir(name: string, config: unknown, tensors?: Map<string, tf.Tensor>): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  if (config !== undefined) fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify(config));
  if (tensors) fs.writeFileSync(path.join(d, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
  return d;
}

/** Round-to-nearest-even float32 → float16 bits (for writing an F16 checkpoint in the test). */
function f32ToF16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Writes tensors as F16 or BF16 safetensors bytes (the header layout of the reference writer). */
function halfBytes(tensors: Map<string, tf.Tensor>, dtype: 'F16' | 'BF16'): Uint8Array {
  const keys = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const chunks: Uint16Array[] = [];
  let off = 0;
  for (const k of keys) {
    const t = tensors.get(k)!;
    const v = t.dataSync() as Float32Array;
    const h = new Uint16Array(v.length);
    const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
    for (let i = 0; i < v.length; i++) h[i] = dtype === 'F16' ? f32ToF16(v[i]!) : u[i]! >>> 16;
    header[k] = { dtype, shape: t.shape, data_offsets: [off, off + h.byteLength] };
    off += h.byteLength;
    chunks.push(h);
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let p = 8 + json.length;
  for (const c of chunks) {
    out.set(new Uint8Array(c.buffer), p);
    p += c.byteLength;
  }
  return out;
}

beforeAll(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 't5-model-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fromPretrained errors', () => {
  it('a directory without config.json', async () => {
    const d = makeDir('noconfig', undefined);
    await expect(T5ForConditionalGeneration.fromPretrained(d)).rejects.toThrow(/no config\.json/);
    await expect(T5ForConditionalGeneration.fromPretrained(path.join(tmp, 'absent'))).rejects.toThrow(T5LoadError);
  });

  it('a config without weights', async () => {
    const d = makeDir('noweights', JSON.parse(fs.readFileSync(path.join(tied, 'config.json'), 'utf8')));
    await expect(T5ForConditionalGeneration.fromPretrained(d)).rejects.toThrow(/neither model\.safetensors nor model\.safetensors\.index\.json/);
  });

  it('an unknown feed_forward_proj', async () => {
    const cfg = JSON.parse(fs.readFileSync(path.join(tied, 'config.json'), 'utf8')) as Record<string, unknown>;
    const d = makeDir('badff', { ...cfg, feed_forward_proj: 'gated-mystery' });
    const err = await T5ForConditionalGeneration.fromPretrained(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(T5ConfigError);
    expect(String(err)).toMatch(/feed_forward_proj.*mystery/);
  });

  it('missing, unexpected and mis-shaped weights in one error', async () => {
    const tensors = readFile(path.join(untied, 'model.safetensors'));
    const cfg = JSON.parse(fs.readFileSync(path.join(untied, 'config.json'), 'utf8')) as unknown;
    tensors.get('encoder.final_layer_norm.weight')!.dispose();
    tensors.delete('encoder.final_layer_norm.weight');
    tensors.set('encoder.block.9.layer.0.SelfAttention.q.weight', tf.zeros([48, 48]));
    tensors.get('lm_head.weight')!.dispose();
    tensors.set('lm_head.weight', tf.zeros([299, 48]));
    const d = makeDir('badkeys', cfg, tensors);
    tf.dispose([...tensors.values()]);
    const before = tf.memory().numTensors;
    const err = await T5ForConditionalGeneration.fromPretrained(d).catch((e: unknown) => e);
    expect(tf.memory().numTensors).toBe(before);
    expect(err).toBeInstanceOf(StateDictError);
    const e = err as StateDictError;
    expect(e.missing).toEqual(['encoder.final_layer_norm.weight']);
    expect(e.unexpected).toEqual(['encoder.block.9.layer.0.SelfAttention.q.weight']);
    expect(e.mismatched).toEqual([{ key: 'lm_head.weight', expected: [300, 48], got: [299, 48] }]);
  });

  it('ids outside the vocabulary are rejected at the boundaries (collator, checkIds, generate); forward checks shapes and dtypes', async () => {
    const model = await T5ForConditionalGeneration.fromPretrained(tied);
    const ids = int2d([[5, 256, 1]]);
    const labels = int2d([[3, 1]]);
    expect(() => model.checkIds(ids, 'inputIds')).toThrow(/inputIds: id 256 .*vocab_size 256/);
    await expect(model.generate(ids, undefined, { maxNewTokens: 2 })).rejects.toThrow(/inputIds: id 256/);
    const badLabels = int2d([[3, -5]]);
    expect(() => model.checkIds(badLabels, 'labels', true)).toThrow(T5InputError);
    expect(() => collateIds([[5, 6, 1]], [[3, -5]], 0, 0, { vocabSize: 256 })).toThrow(/labels\[0\]\[1\]: id -5 is outside \[0, 256\)/);
    expect(() => collateIds([[5, 300, 1]], [[3, 1]], 0, 0, { vocabSize: 256 })).toThrow(BatchIdError);
    expect(collateIds([[5, 6, 1]], [[3, 1]], 0, 0, { vocabSize: 256 }).labels).toEqual([[3, 1]]);
    const floatIds = tf.tensor2d([[5, 6, 1]]);
    expect(() => model.forward({ inputIds: floatIds, labels })).toThrow(/inputIds: expected int32/);
    const flat = tf.tensor1d([5, 6, 1], 'int32');
    expect(() => model.forward({ inputIds: flat as unknown as tf.Tensor2D, labels })).toThrow(/inputIds: expected shape \[batch, len\]/);
    const twoRows = int2d([
      [3, 1],
      [4, 1],
    ]);
    const ok = int2d([[5, 6, 1]]);
    expect(() => model.forward({ inputIds: ok, labels: twoRows })).toThrow(/labels: expected shape \[1, len\]/);
    tf.dispose([ids, labels, ok, badLabels, floatIds, flat, twoRows]);
    model.dispose();
  });
});

describe('savePretrained / fromPretrained round trip', () => {
  it.each([
    ['tied, single file', tied, undefined],
    ['untied, sharded', untied, 100_000],
  ])('%s: identical weights, HF key set', async (_label, src, maxShardBytes) => {
    const model = await T5ForConditionalGeneration.fromPretrained(src);
    const out = path.join(tmp, `rt-${path.basename(src)}`);
    await model.savePretrained(out, { maxShardBytes });
    if (maxShardBytes) expect(fs.existsSync(path.join(out, 'model.safetensors.index.json'))).toBe(true);
    const back = await T5ForConditionalGeneration.fromPretrained(out);
    expect(back.config).toEqual(model.config);
    const a = model.stateDict();
    const b = back.stateDict();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) expect(Array.from(b.get(k)!.dataSync()), k).toEqual(Array.from(v.dataSync()));
    // what we write is what HF writes: the saved key set of the golden file
    const hf = readFile(path.join(src, 'model.safetensors'));
    expect([...a.keys()].sort()).toEqual([...hf.keys()].sort());
    tf.dispose([...hf.values()]);
    model.dispose();
    back.dispose();
  });

  it.each(['F16', 'BF16'] as const)('loads %s checkpoints (converted to float32 exactly)', async (dtype) => {
    const tensors = readFile(path.join(untied, 'model.safetensors'));
    const d = makeDir(`half-${dtype}`, JSON.parse(fs.readFileSync(path.join(untied, 'config.json'), 'utf8')));
    fs.writeFileSync(path.join(d, 'model.safetensors'), halfBytes(tensors, dtype));
    const model = await T5ForConditionalGeneration.fromPretrained(d);
    const sd = model.stateDict();
    for (const [k, t] of tensors) {
      const want = Array.from(t.dataSync() as Float32Array, (x) => {
        const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
        return dtype === 'F16' ? f16ToF32(f32ToF16(x)) : bf16ToF32(u >>> 16);
      });
      expect(Array.from(sd.get(k)!.dataSync()), k).toEqual(want);
    }
    tf.dispose([...tensors.values()]);
    model.dispose();
  });

  it('a model on a pruned vocabulary saves its map and has vocab_size = compact size', async () => {
    const map = buildVocabMap([[10, 20, 30, 1]], { originalVocabSize: 32128 });
    const model = createRandomT5(
      makeT5Config({ vocabSize: map.size, dModel: 8, dKv: 2, numHeads: 2, dFf: 8, numLayers: 1, relativeAttentionNumBuckets: 4 }),
      3,
    );
    const out = path.join(tmp, 'pruned');
    await savePretrained(model, out, { vocabMap: map });
    const back = await T5ForConditionalGeneration.fromPretrained(out);
    expect(back.config.vocabSize).toBe(6);
    expect((await loadVocabMap(out))?.keptIds).toEqual(map.keptIds);
    expect(await loadVocabMap(tied)).toBeUndefined();
    model.dispose();
    back.dispose();
  });
});
