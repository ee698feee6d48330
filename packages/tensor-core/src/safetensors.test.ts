import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, readSharded, shardedFile, writeSafetensors, writeSharded } from './node.js';
import { MAX_HEADER_BYTES, SafetensorsError, parseSafetensors, serializeSafetensors } from './safetensors.js';
import { expectNoLeak, useBackend } from './testing.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const golden = path.resolve(repoRoot, '..', 'shared', 'golden', 't5');
const haveGolden = existsSync(golden);

function header(obj: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(obj));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function faultOf(fn: () => unknown): { fault: string; file: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (e instanceof SafetensorsError) return { fault: e.fault, file: e.file, message: e.message };
    throw e;
  }
  throw new Error('expected a SafetensorsError');
}

function disposeAll(m: Map<string, tf.Tensor>): void {
  for (const t of m.values()) t.dispose();
}

describe('safetensors bytes', () => {
  beforeAll(() => useBackend('cpu'));

  it('round-trips F32/I32/BOOL bit-exactly and deterministically, keeping __metadata__', () => {
    expectNoLeak(() => {
      const specials = new Float32Array([0, -0, 1.5, -3.25e-39, 3.4028234663852886e38, Number.NaN, Infinity, -Infinity]);
      const src = new Map<string, tf.Tensor>([
        ['z.last', tf.tensor(specials, [2, 4])],
        ['a.ints', tf.tensor1d([-2147483648, 0, 7, 2147483647], 'int32')],
        ['m.mask', tf.tensor1d([true, false, true], 'bool')],
        ['empty', tf.zeros([0, 3])],
        ['scalar', tf.scalar(2.5)],
      ]);
      const bytes = serializeSafetensors(src, { format: 'pt', note: 'x' });
      expect(serializeSafetensors(new Map([...src].reverse()), { note: 'x', format: 'pt' })).toEqual(bytes);
      const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(headerLen % 8).toBe(0);
      const parsed = parseSafetensors(bytes, 'mem.safetensors');
      expect(parsed.metadata).toEqual({ format: 'pt', note: 'x' });
      expect([...parsed.tensors.keys()]).toEqual(['a.ints', 'empty', 'm.mask', 'scalar', 'z.last']);
      for (const [k, t] of src) {
        const back = parsed.tensors.get(k) as tf.Tensor;
        expect(back.dtype).toBe(t.dtype);
        expect(back.shape).toEqual(t.shape);
        const bitsA = new Uint8Array(new Float32Array(back.dataSync() as Float32Array).buffer);
        const bitsB = new Uint8Array(new Float32Array(t.dataSync() as Float32Array).buffer);
        if (t.dtype === 'float32') expect(bitsA).toEqual(bitsB);
        else expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));
      }
      disposeAll(parsed.tensors);
      disposeAll(src);
    });
  });

  it('converts F16, BF16, I64, U8 and BOOL from known bit patterns', () => {
    const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x7c00, 0xfc00, 0x8000, 0x3555, 0x7e00];
    const f16Values = [1, -2, 65504, 2 ** -24, 2 ** -14, Infinity, -Infinity, -0, 0.333251953125, Number.NaN];
    const bf16 = [0x3f80, 0xc040, 0x7f80, 0x3eaa, 0x0001, 0x7fc0];
    const bf16Values = [1, -3, Infinity, 0.33203125, 9.183549615799121e-41, Number.NaN];
    const data = new Uint8Array(2 * f16.length + 2 * bf16.length + 8 * 3 + 3 + 2);
    const dv = new DataView(data.buffer);
    let o = 0;
    for (const h of f16) dv.setUint16((o += 2) - 2, h, true);
    for (const h of bf16) dv.setUint16((o += 2) - 2, h, true);
    for (const v of [-5n, 2147483647n, 0n]) dv.setBigInt64((o += 8) - 8, v, true);
    data.set([0, 200, 255], o);
    data.set([1, 0], o + 3);
    const a = 2 * f16.length;
    const b = a + 2 * bf16.length;
    const bytes = header(
      {
        half: { dtype: 'F16', shape: [f16.length], data_offsets: [0, a] },
        brain: { dtype: 'BF16', shape: [bf16.length], data_offsets: [a, b] },
        long: { dtype: 'I64', shape: [3], data_offsets: [b, b + 24] },
        byte: { dtype: 'U8', shape: [3], data_offsets: [b + 24, b + 27] },
        flag: { dtype: 'BOOL', shape: [2], data_offsets: [b + 27, b + 29] },
      },
      data,
    );
    expectNoLeak(() => {
      const { tensors, dtypes, metadata } = parseSafetensors(bytes, 'mixed.safetensors');
      expect(metadata).toEqual({});
      expect(Object.fromEntries(dtypes)).toEqual({ half: 'F16', brain: 'BF16', long: 'I64', byte: 'U8', flag: 'BOOL' });
      const half = Array.from(tensors.get('half')?.dataSync() ?? []);
      half.forEach((v, i) => expect(Object.is(v, f16Values[i]) || (Number.isNaN(v) && Number.isNaN(f16Values[i]))).toBe(true));
      const brain = Array.from(tensors.get('brain')?.dataSync() ?? []);
      brain.forEach((v, i) => expect(Object.is(v, bf16Values[i]) || (Number.isNaN(v) && Number.isNaN(bf16Values[i]))).toBe(true));
      expect(tensors.get('half')?.dtype).toBe('float32');
      expect(tensors.get('long')?.dtype).toBe('int32');
      expect(Array.from(tensors.get('long')?.dataSync() ?? [])).toEqual([-5, 2147483647, 0]);
      expect(Array.from(tensors.get('byte')?.dataSync() ?? [])).toEqual([0, 200, 255]);
      expect(tensors.get('flag')?.dtype).toBe('bool');
      expect(Array.from(tensors.get('flag')?.dataSync() ?? [])).toEqual([1, 0]);
      disposeAll(tensors);
    });
    // an I64 beyond int32 is refused rather than wrapped
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigInt64(0, 2n ** 40n, true);
    expect(faultOf(() => parseSafetensors(header({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big), 'big.st')).fault).toBe('value-range');
  });

  describe('malformed files give SafetensorsError naming the file and fault', () => {
    const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const data8 = new Uint8Array(8);
    const cases: [string, () => Uint8Array, string, RegExp][] = [
      ['fewer than 8 bytes', () => new Uint8Array([1, 2, 3]), 'truncated', /fewer than the 8-byte/],
      ['header length past the end', () => header(ok, data8, 10_000n), 'truncated', /header length 10000 runs past the end/],
      ['huge header length', () => header(ok, data8, 2n ** 62n), 'header-too-large', new RegExp(`exceeds the cap of ${MAX_HEADER_BYTES}`)],
      ['truncated data', () => header(ok, data8).subarray(0, header(ok, data8).length - 3), 'offsets-out-of-range', /exceed the 5-byte/],
      ['non-JSON header', () => header(ok, data8).fill(0x7b, 8, 12), 'header-json', /not valid UTF-8 JSON/],
      ['header not an object', () => header([1, 2]), 'header-schema', /must be a JSON object/],
      ['unknown dtype', () => header({ t: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, data8), 'dtype', /'t' has dtype "F8_E4M3"/],
      ['bad shape', () => header({ t: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data8), 'shape', /'t' has shape \[-2\]/],
      [
        'offsets out of range',
        () => header({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8),
        'offsets-out-of-range',
        /data_offsets \[0, 16\] exceed the 8-byte/,
      ],
      [
        'size mismatch',
        () => header({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8),
        'size-mismatch',
        /needs 12 bytes but data_offsets span 8/,
      ],
      [
        'overlapping ranges',
        () =>
          header(
            {
              a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
              b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
            },
            data8,
          ),
        'overlap',
        /'b' \[4, 8\] overlaps 'a'/,
      ],
      ['hole before a tensor', () => header({ t: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8), 'gap', /bytes \[0, 4\) before 't'/],
      ['trailing bytes', () => header({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data8), 'gap', /after the last tensor/],
      ['bad metadata', () => header({ __metadata__: { n: 3 } }), 'header-schema', /__metadata__\.n must be a string/],
      ['bad offsets', () => header({ t: { dtype: 'F32', shape: [2], data_offsets: [8] } }, data8), 'header-schema', /data_offsets \[8\]/],
    ];
    it.each(cases)('%s', (_name, make, fault, message) => {
      expectNoLeak(() => {
        const err = faultOf(() => parseSafetensors(make(), 'bad.safetensors'));
        expect(err.fault).toBe(fault);
        expect(err.file).toBe('bad.safetensors');
        expect(err.message).toMatch(/^bad\.safetensors: /);
        expect(err.message).toMatch(message);
      });
    });
  });
});

describe('safetensors files (node)', () => {
  let dir = '';
  beforeAll(async () => {
    await useBackend('cpu');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagi-st-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writeSafetensors writes atomically and reads back bit-exactly', async () => {
    const t = new Map([['w', tf.tensor2d([[1.1, -2.2, 3.3e-20]])]]);
    const file = path.join(dir, 'one.safetensors');
    await writeSafetensors(file, t, { format: 'pt' });
    expect((await fs.readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const back = await readSafetensors(file);
    expect(back.tensors.get('w')?.dataSync()).toEqual(t.get('w')?.dataSync());
    expect(new Uint8Array(await fs.readFile(file))).toEqual(serializeSafetensors(t, { format: 'pt' }));
    disposeAll(back.tensors);
    disposeAll(t);
    const missing = await readSafetensors(path.join(dir, 'nope.safetensors')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SafetensorsError);
    expect((missing as SafetensorsError).fault).toBe('io');
  });

  it('writeSharded splits into numbered shards with an index; readSharded reassembles them', async () => {
    const src = new Map<string, tf.Tensor>();
    for (let i = 0; i < 5; i++) src.set(`layer.${i}.weight`, tf.fill([10, 10], i)); // 400 bytes each
    const out = path.join(dir, 'sharded');
    const files = await writeSharded(out, src, { maxShardBytes: 900, metadata: { format: 'pt' } });
    expect(files.map((f) => path.basename(f))).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
      'model.safetensors.index.json',
    ]);
    const index = JSON.parse(await fs.readFile(path.join(out, 'model.safetensors.index.json'), 'utf8')) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    expect(index.metadata.total_size).toBe(2000);
    expect(index.weight_map['layer.4.weight']).toBe('model-00003-of-00003.safetensors');
    const back = await readSharded(out);
    expect([...back.tensors.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [k, t] of src) expect(back.tensors.get(k)?.dataSync()).toEqual(t.dataSync());
    expect(back.metadata).toEqual({ format: 'pt' });
    disposeAll(back.tensors);
    // a single file when everything fits
    const single = path.join(dir, 'single');
    expect((await writeSharded(single, src)).map((f) => path.basename(f))).toEqual(['model.safetensors']);
    const b2 = await readSharded(single);
    expect(b2.tensors.size).toBe(5);
    // what a message about the weights names: the file readSharded starts from
    expect([shardedFile(out), shardedFile(single)]).toEqual([path.join(out, 'model.safetensors.index.json'), path.join(single, 'model.safetensors')]);
    disposeAll(b2.tensors);
    // an index naming a key its shard lacks
    index.weight_map['ghost.weight'] = 'model-00001-of-00003.safetensors';
    await fs.writeFile(path.join(out, 'model.safetensors.index.json'), JSON.stringify(index));
    const before = tf.memory().numTensors;
    const err = await readSharded(out).catch((e: unknown) => e);
    expect(tf.memory().numTensors).toBe(before);
    expect(err).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).fault).toBe('index');
    expect((err as Error).message).toMatch(/model-00001-of-00003\.safetensors: index: .*ghost\.weight/);
    disposeAll(src);
  });
});

interface Meta {
  saved_keys?: string[];
  init_scales?: [string, number[], number, number][];
  safetensors_metadata?: Record<string, string>;
  adapter_keys?: string[];
  adapter_safetensors_metadata?: Record<string, string>;
  r?: number;
  init?: string;
}

// Every tensor was drawn as randn·scale + offset (see `init_recipe` in expected.json); the sample
// mean and standard deviation must agree within 5 standard errors.
function expectDrawnFrom(name: string, t: tf.Tensor, scale: number, offset: number): void {
  const v = t.dataSync();
  const n = v.length;
  let s = 0;
  let s2 = 0;
  for (const x of v) {
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  const std = Math.sqrt(Math.max(0, s2 / n - mean * mean));
  expect(Math.abs(mean - offset), `${name} mean`).toBeLessThan((5 * scale) / Math.sqrt(n));
  expect(Math.abs(std / scale - 1), `${name} sd`).toBeLessThan(5 / Math.sqrt(2 * n));
}

describe.skipIf(!haveGolden)('golden HF checkpoints (../shared/golden/t5; skipped when absent)', () => {
  beforeAll(() => useBackend('cpu'));
  const readMeta = async (f: string) => (JSON.parse(await fs.readFile(f, 'utf8')) as { meta: Meta }).meta;

  it.each(['tiny-relu-tied', 'tiny-gated-untied'])('%s/model.safetensors: names, shapes, metadata and values as recorded', async (name) => {
    const meta = await readMeta(path.join(golden, name, 'expected.json'));
    const file = path.join(golden, name, 'model.safetensors');
    const original = new Uint8Array(await fs.readFile(file));
    const { tensors, metadata, dtypes } = await readSafetensors(file);
    expect([...tensors.keys()].sort()).toEqual([...(meta.saved_keys ?? [])].sort());
    expect(metadata).toEqual(meta.safetensors_metadata);
    expect(new Set(dtypes.values())).toEqual(new Set(['F32']));
    let checked = 0;
    for (const [key, shape, scale, offset] of meta.init_scales ?? []) {
      const t = tensors.get(key);
      if (t === undefined) continue; // tied aliases are recorded but not saved
      expect(t.shape, key).toEqual(shape);
      expectDrawnFrom(key, t, scale, offset);
      checked++;
    }
    expect(checked).toBe(tensors.size);
    // our writer reproduces HF's file byte for byte (sorted keys, metadata first, space padding)
    expect(serializeSafetensors(tensors, metadata)).toEqual(original);
    disposeAll(tensors);
  });

  it('tiny-relu-tied/model.all_keys.safetensors: 50 keys, no __metadata__, aliases equal to shared.weight', async () => {
    const all = await readSafetensors(path.join(golden, 'tiny-relu-tied', 'model.all_keys.safetensors'));
    const saved = await readSafetensors(path.join(golden, 'tiny-relu-tied', 'model.safetensors'));
    const meta = await readMeta(path.join(golden, 'tiny-relu-tied', 'expected.json'));
    expect(all.tensors.size).toBe(50);
    expect(all.metadata).toEqual({});
    expect([...all.tensors.keys()].sort()).toEqual(
      [...(meta.saved_keys ?? []), 'decoder.embed_tokens.weight', 'encoder.embed_tokens.weight', 'lm_head.weight'].sort(),
    );
    for (const [k, t] of saved.tensors) expect(all.tensors.get(k)?.dataSync(), k).toEqual(t.dataSync());
    const shared = saved.tensors.get('shared.weight')?.dataSync();
    for (const alias of ['decoder.embed_tokens.weight', 'encoder.embed_tokens.weight', 'lm_head.weight']) {
      expect(all.tensors.get(alias)?.dataSync(), alias).toEqual(shared);
    }
    disposeAll(all.tensors);
    disposeAll(saved.tensors);
  });

  it('tiny-gated-untied/lora/adapter_model.safetensors: peft keys, [r,in]/[out,r] shapes, metadata, init scales', async () => {
    const meta = await readMeta(path.join(golden, 'tiny-gated-untied', 'lora', 'expected.json'));
    const { tensors, metadata } = await readSafetensors(path.join(golden, 'tiny-gated-untied', 'lora', 'adapter_model.safetensors'));
    expect([...tensors.keys()].sort()).toEqual([...(meta.adapter_keys ?? [])].sort());
    expect(metadata).toEqual(meta.adapter_safetensors_metadata);
    const r = meta.r ?? 0;
    expect(r).toBe(4);
    for (const [k, t] of tensors) {
      if (k.endsWith('lora_A.weight')) {
        expect(t.shape, k).toEqual([r, 48]); // d_model 48 (q and v are square)
        expectDrawnFrom(k, t, 0.2, 0); // meta.init: lora_A = randn·0.2
      } else {
        expect(t.shape, k).toEqual([48, r]);
        expectDrawnFrom(k, t, 0.1, 0); // lora_B = randn·0.1
      }
    }
    expect(meta.init).toMatch(/lora_A = randn\*0\.2, lora_B = randn\*0\.1/);
    disposeAll(tensors);
  });
});
