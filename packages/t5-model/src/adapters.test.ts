// Call-time low-rank deltas against peft 0.21 (golden tiny-gated-untied/lora, copied into __fixtures__),
// per-example deltas, the encoder prefix (instruction fusion), and generation with both.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, type LowRankDelta } from '@tagi/tensor-core';
import { expectClose, expectNoLeak, testBackends, useBackend } from '@tagi/tensor-core/testing';
import { T5ForConditionalGeneration } from './node.js';

const dir = path.resolve(import.meta.dirname, '..', '__fixtures__', 't5', 'tiny-gated-untied');
const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8')) as { input_ids: number[][]; attention_mask: number[][]; labels: number[][] };
const lora = JSON.parse(fs.readFileSync(path.join(dir, 'lora', 'expected.json'), 'utf8')) as {
  logits: number[][][];
  loss: number;
  encoder_last_hidden_state: number[][][];
  generate: { sequences: number[][] };
  grads: Record<string, number[][]>;
};
const base = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as { logits: number[][][] };

describe.each(testBackends())('adapters on %s', (backend) => {
  let model: T5ForConditionalGeneration;
  let factors: Map<string, tf.Variable>;
  let deltas: Map<string, LowRankDelta>;
  const t = () => ({
    inputIds: tf.tensor2d(inputs.input_ids, undefined, 'int32'),
    attentionMask: tf.tensor2d(inputs.attention_mask, undefined, 'int32'),
    labels: tf.tensor2d(inputs.labels, undefined, 'int32'),
  });

  beforeAll(async () => {
    await useBackend(backend);
    model = await T5ForConditionalGeneration.fromPretrained(dir);
    const bytes = new Uint8Array(fs.readFileSync(path.join(dir, 'lora', 'adapter_model.safetensors')));
    const { tensors } = parseSafetensors(bytes);
    factors = new Map();
    deltas = new Map();
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'lora', 'adapter_config.json'), 'utf8')) as { r: number; lora_alpha: number };
    for (const [k, v] of tensors) {
      factors.set(k, tf.variable(v));
      v.dispose();
    }
    for (const k of factors.keys()) {
      const m = /^base_model\.model\.(.+)\.lora_A\.weight$/.exec(k);
      if (!m) continue;
      const p = m[1] as string;
      deltas.set(p, { A: factors.get(k)!, B: factors.get(`base_model.model.${p}.lora_B.weight`)!, scaling: cfg.lora_alpha / cfg.r });
    }
  });
  afterAll(() => {
    model.dispose();
    for (const v of factors.values()) v.dispose();
  });

  it('forward with shared deltas equals peft; gradients w.r.t. every lora factor too', () => {
    expectNoLeak(() => {
      const x = t();
      const out = model.forward({ ...x, adapters: deltas });
      expectClose(out.encoderLastHiddenState, lora.encoder_last_hidden_state, { atol: 1e-4, rtol: 0 });
      expectClose(out.logits, lora.logits, { atol: 1e-4, rtol: 0 });
      expect(Math.abs(out.loss!.dataSync()[0]! - lora.loss)).toBeLessThan(1e-5);
      tf.dispose([out.logits, out.loss, out.encoderLastHiddenState]);
      const names = Object.keys(lora.grads);
      expect(names.length).toBe(28);
      const { value, grads } = tf.variableGrads(
        () => model.forward({ ...x, adapters: deltas }).loss!,
        names.map((n) => factors.get(n)!),
      );
      for (const n of names) expectClose(grads[factors.get(n)!.name]!, lora.grads[n]!, { atol: 1e-5, rtol: 1e-3, label: n });
      tf.dispose([value, ...Object.values(grads), x.inputIds, x.attentionMask, x.labels]);
    });
  });

  it('frozen base (cached transposes, nothing weight-sized saved): same logits and lora gradients as peft', async () => {
    model.freezeBase();
    try {
      expectNoLeak(() => {
        const x = t();
        const { value, grads } = tf.variableGrads(() => {
          const out = model.forward({ ...x, adapters: deltas });
          expectClose(out.logits, lora.logits, { atol: 1e-4, rtol: 0 });
          return out.loss!;
        }, [...factors.values()]);
        expect(Math.abs(value.dataSync()[0]! - lora.loss)).toBeLessThan(1e-5);
        for (const n of Object.keys(lora.grads)) expectClose(grads[factors.get(n)!.name]!, lora.grads[n]!, { atol: 1e-5, rtol: 1e-3, label: n });
        tf.dispose([value, ...Object.values(grads), x.inputIds, x.attentionMask, x.labels]);
      });
      const x = t();
      expect(await model.generate(x.inputIds, x.attentionMask, { maxNewTokens: 10, adapters: deltas })).toEqual(lora.generate.sequences);
      tf.dispose([x.inputIds, x.attentionMask, x.labels]);
    } finally {
      model.unfreezeBase();
    }
  });

  it('per-example deltas: row 0 adapted, row 1 with a zero B equals the base model', () => {
    // tidy: the test's own intermediates; forward's leak-freedom is asserted in the parity suite
    tf.tidy(() => {
      const x = t();
      const per = new Map<string, LowRankDelta>();
      for (const [k, d] of deltas) {
        per.set(k, { A: tf.stack([d.A, d.A]), B: tf.stack([d.B, tf.zerosLike(d.B)]), scaling: d.scaling });
      }
      const out = model.forward({ ...x, adapters: per });
      const logits = out.logits.arraySync();
      expectClose(logits[0]!, lora.logits[0]!, { atol: 1e-4, rtol: 0 });
      expectClose(logits[1]!, base.logits[1]!, { atol: 1e-4, rtol: 0 });
      tf.dispose([out.logits, out.loss, out.encoderLastHiddenState, x.inputIds, x.attentionMask, x.labels]);
      for (const d of per.values()) tf.dispose([d.A, d.B]);
    });
  });

  it('generation with adapters equals peft, with and without cache, greedy and 1-beam-equivalent', async () => {
    const x = t();
    const before = tf.memory().numTensors;
    const a = await model.generate(x.inputIds, x.attentionMask, { maxNewTokens: 10, adapters: deltas });
    const b = await model.generate(x.inputIds, x.attentionMask, { maxNewTokens: 10, adapters: deltas, useCache: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(a).toEqual(lora.generate.sequences);
    expect(b).toEqual(lora.generate.sequences);
    tf.dispose([x.inputIds, x.attentionMask, x.labels]);
  });

  it('generation accepts an encoder prefix: a fully masked one changes nothing, a visible one is used (greedy and beam)', async () => {
    const x = t();
    const states = tf.randomNormal([2, 3, model.config.dModel], 0, 1, 'float32', 11) as tf.Tensor3D;
    const zero = tf.zeros([2, 3], 'int32') as tf.Tensor2D;
    const one = tf.ones([2, 3], 'int32') as tf.Tensor2D;
    const before = tf.memory().numTensors;
    for (const numBeams of [1, 3]) {
      const plain = await model.generate(x.inputIds, x.attentionMask, { maxNewTokens: 8, numBeams });
      const masked = await model.generate(x.inputIds, x.attentionMask, { maxNewTokens: 8, numBeams, encoderPrefix: { states, mask: zero } });
      const noCache = await model.generate(x.inputIds, x.attentionMask, { maxNewTokens: 8, numBeams, encoderPrefix: { states, mask: one }, useCache: false });
      const cached = await model.generate(x.inputIds, x.attentionMask, { maxNewTokens: 8, numBeams, encoderPrefix: { states, mask: one } });
      expect(masked).toEqual(plain);
      expect(cached).toEqual(noCache);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([states, zero, one, x.inputIds, x.attentionMask, x.labels]);
  });

  it('encoder prefix: fully masked prefix changes nothing; a real prefix equals concatenated encoder states', () => {
    expectNoLeak(() => {
      const x = t();
      const states = tf.randomNormal([2, 3, model.config.dModel], 0, 1, 'float32', 7) as tf.Tensor3D;
      const mask = tf.ones([2, 3], 'int32') as tf.Tensor2D;
      const out = model.forward({ ...x, encoderPrefix: { states, mask } });
      tf.dispose([out.logits, out.loss, out.encoderLastHiddenState]);
      tf.dispose([states, mask, x.inputIds, x.attentionMask, x.labels]);
    });
    tf.tidy(() => {
      const x = t();
      const d = model.config.dModel;
      const states = tf.randomNormal([2, 3, d], 0, 1, 'float32', 7) as tf.Tensor3D;
      const zeroMask = tf.zeros([2, 3], 'int32') as tf.Tensor2D;
      const plain = model.forward(x);
      const masked = model.forward({ ...x, encoderPrefix: { states, mask: zeroMask } });
      expectClose(masked.logits, plain.logits, { atol: 1e-5, rtol: 0 });
      // prefix == passing [prefix; encoder] as encoder outputs with the joint mask to the decoder
      const oneMask = tf.ones([2, 3], 'int32') as tf.Tensor2D;
      const fused = model.forward({ ...x, encoderPrefix: { states, mask: oneMask } });
      const enc = plain.encoderLastHiddenState;
      const cross = model.crossContext(tf.concat([states, enc], 1) as tf.Tensor3D, tf.concat([oneMask, x.attentionMask], 1) as tf.Tensor2D);
      const dec = model.decoder.decode(
        tf.tensor2d(
          [
            [0, ...inputs.labels[0]!.slice(0, -1)],
            [0, ...inputs.labels[1]!.slice(0, -1).map((v) => (v < 0 ? 0 : v))],
          ],
          undefined,
          'int32',
        ),
        cross,
        undefined,
      );
      const manual = model.lmHead(dec.hidden);
      expectClose(fused.logits, manual, { atol: 1e-5, rtol: 0 });
      expect(tf.max(tf.abs(tf.sub(fused.logits, plain.logits))).dataSync()[0]).toBeGreaterThan(1e-3);
      tf.dispose([plain.logits, plain.loss, plain.encoderLastHiddenState, masked.logits, masked.loss, masked.encoderLastHiddenState]);
      tf.dispose([
        fused.logits,
        fused.loss,
        fused.encoderLastHiddenState,
        cross.mask,
        ...cross.kv.flatMap((k) => [k.k, k.v]),
        dec.hidden,
        ...dec.cache.flatMap((k) => [k.k, k.v]),
        manual,
      ]);
      tf.dispose([states, zeroMask, oneMask, x.inputIds, x.attentionMask, x.labels]);
    });
  });
});
