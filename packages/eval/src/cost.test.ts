import { describe, expect, it } from 'vitest';
import {
  adapterInstanceCost,
  compareInstructionCost,
  concatenatedInstanceFlops,
  costConfigFromHf,
  encoderFlops,
  t5ForwardFlops,
  type T5CostConfig,
} from './cost.js';
import { EvalInputError } from './errors.js';

// Tiny config for hand counts: dModel 4, 2 heads × dKv 3 (inner 6), dFf 5, 1 encoder / 2 decoder
// layers, vocab 7, relu (two FFN matrices).
const tiny: T5CostConfig = { dModel: 4, dKv: 3, dFf: 5, numLayers: 1, numDecoderLayers: 2, numHeads: 2, vocabSize: 7, gated: false };

/**
 * Independent count: walk the forward pass op by op and add 2·m·k·n for every [m,k]×[k,n] product,
 * per head for attention. Written as a loop over tokens and heads, not as the closed forms in cost.ts.
 */
function bruteForce(c: T5CostConfig, E: number, T: number, P = 0, lmHead = true): number {
  const mm = (m: number, k: number, n: number): number => 2 * m * k * n;
  const inner = c.numHeads * c.dKv;
  const ffnIn = c.gated ? 2 : 1;
  let f = 0;
  for (let l = 0; l < c.numLayers; l++) {
    f += 3 * mm(E, c.dModel, inner); // q, k, v
    for (let h = 0; h < c.numHeads; h++) f += mm(E, c.dKv, E) + mm(E, E, c.dKv); // scores, A·V
    f += mm(E, inner, c.dModel); // o
    f += ffnIn * mm(E, c.dModel, c.dFf) + mm(E, c.dFf, c.dModel);
  }
  const M = E + P;
  for (let l = 0; l < (c.numDecoderLayers ?? c.numLayers); l++) {
    if (T > 0) f += 2 * mm(M, c.dModel, inner); // cross k, v over the memory, once
    for (let t = 1; t <= T; t++) {
      f += 4 * mm(1, c.dModel, inner); // self q, k, v, o for this token
      for (let h = 0; h < c.numHeads; h++) f += mm(1, c.dKv, t) + mm(1, t, c.dKv);
      f += 2 * mm(1, c.dModel, inner); // cross q, o
      for (let h = 0; h < c.numHeads; h++) f += mm(1, c.dKv, M) + mm(1, M, c.dKv);
      f += ffnIn * mm(1, c.dModel, c.dFf) + mm(1, c.dFf, c.dModel);
    }
  }
  if (lmHead) f += mm(T, c.dModel, c.vocabSize);
  return f;
}

describe('t5ForwardFlops', () => {
  it('matches a hand count on the tiny config (E=2, T=2)', () => {
    // encoder layer: q,k,v,o 4·2·2·4·6 = 384; scores+A·V 2·2·(2·2)·6 = 96; FFN 2·2·2·4·5 = 160 -> 640
    // decoder layer: self proj 384; self attn 2·2·6·(1+2) = 72; cross q,o 2·2·2·4·6 = 192;
    //   cross k,v 2·2·2·4·6 = 192; cross attn 2·2·2·2·6 = 96; FFN 160 -> 1096, ×2 layers = 2192
    // LM head 2·2·4·7 = 112; total 640 + 2192 + 112 = 2944
    const f = t5ForwardFlops(tiny, { encoderLength: 2, targetLength: 2 });
    expect(f).toEqual({ encoder: 640, decoder: 2192, lmHead: 112, lora: 0, total: 2944 });
  });

  it('agrees with an op-by-op count over many shapes, gated and not, with a fusion prefix', () => {
    for (const gated of [false, true]) {
      const c = { ...tiny, gated, numLayers: 3 };
      for (const [E, T, P] of [
        [1, 1, 0],
        [5, 3, 0],
        [7, 4, 6],
        [16, 9, 11],
        [0, 2, 3],
      ] as const) {
        expect(t5ForwardFlops(c, { encoderLength: E, targetLength: T, prefixLength: P }).total).toBe(bruteForce(c, E, T, P));
        expect(encoderFlops(c, E)).toBe(t5ForwardFlops(c, { encoderLength: E, targetLength: 0, lmHead: false }).total);
      }
    }
  });

  it('counts an unmerged q/v LoRA by hand and nothing per token when merged', () => {
    // r = 1: one branch costs 2·1·(4+6) = 20 FLOPs per token.
    // q: enc 1·2 + dec self 2·2 + cross q 2·2 = 10 tokens; v: enc 2 + dec self 4 + cross v over memory 2·2 = 10
    const f = t5ForwardFlops(tiny, { encoderLength: 2, targetLength: 2, lora: { rank: 1, targets: ['q', 'v'] } });
    expect(f.lora).toBe(20 * 20);
    expect(f.total).toBe(2944 + 400);
    expect(t5ForwardFlops(tiny, { encoderLength: 2, targetLength: 2, lora: { rank: 1, targets: ['q', 'v'], merged: true } }).lora).toBe(0);
  });

  it('rejects bad configs and lengths with the key named', () => {
    expect(() => t5ForwardFlops({ ...tiny, dModel: 0 }, { encoderLength: 1, targetLength: 1 })).toThrow(/config\.dModel/);
    expect(() => t5ForwardFlops(tiny, { encoderLength: -1, targetLength: 1 })).toThrow(EvalInputError);
    expect(() => t5ForwardFlops(tiny, { encoderLength: 1.5, targetLength: 1 })).toThrow(/shape\.encoderLength/);
    expect(() => t5ForwardFlops({ ...tiny, gated: 'yes' as unknown as boolean }, { encoderLength: 1, targetLength: 1 })).toThrow(/config\.gated/);
  });
});

describe('instruction concatenated vs adapter', () => {
  const lengths = { instruction: 6, input: 2, target: 2 };

  it('concatenation runs instruction + input through the encoder every time', () => {
    expect(concatenatedInstanceFlops(tiny, lengths)).toBe(bruteForce(tiny, 8, 2));
  });

  it('adapter: hypernet once, plain input per instance, amortised over N (hand arithmetic)', () => {
    const a = adapterInstanceCost(tiny, lengths, { hypernetFlops: 1000, instances: 10 });
    expect(a.perInstance).toBe(2944); // the plain E=2, T=2 pass counted by hand above
    expect(a.oncePerTask).toBe(1000);
    expect(a.amortisedPerInstance).toBe(100 + 2944);
    expect(a.total).toBe(1000 + 10 * 2944);
  });

  it('fusion adds cross-attention over the instruction states only', () => {
    const plain = adapterInstanceCost(tiny, lengths, { hypernetFlops: 0, instances: 1 });
    const fused = adapterInstanceCost(tiny, lengths, { hypernetFlops: 0, instances: 1, fusion: true });
    // per decoder layer: cross k,v 2·2·6·4·6 = 576 and cross attention 2·2·2·6·6 = 288 more -> 864 × 2 layers
    expect(fused.perInstance - plain.perInstance).toBe(1728);
    expect(fused.perInstance).toBe(bruteForce(tiny, 2, 2, 6));
  });

  it('merged LoRA costs its merge once per task: 2·r·dModel·inner per adapted projection', () => {
    const a = adapterInstanceCost(tiny, lengths, { hypernetFlops: 0, instances: 4, lora: { rank: 2, targets: ['q', 'v'], merged: true } });
    // modules: 1 encoder self + 2 decoder self + 2 cross = 5, × 2 projections; each 2·2·4·6 = 96
    expect(a.oncePerTask).toBe(960);
    expect(a.perInstance).toBe(2944);
  });

  it('relative cost tends to plain/concatenated as N grows and is > 1 when N = 1 with a big hypernet', () => {
    const big = adapterInstanceCost(tiny, lengths, { hypernetFlops: 1e9, instances: 1 });
    expect(big.amortisedPerInstance / concatenatedInstanceFlops(tiny, lengths)).toBeGreaterThan(1);
    const many = compareInstructionCost(tiny, lengths, { hypernetFlops: 5000, instances: 1e9 });
    expect(many.relative).toBeCloseTo(bruteForce(tiny, 2, 2) / bruteForce(tiny, 8, 2), 6);
  });

  it('reads the cost fields of an HF config.json', () => {
    const c = costConfigFromHf({ d_model: 512, d_kv: 64, d_ff: 1024, num_layers: 8, num_heads: 6, vocab_size: 32128, feed_forward_proj: 'gated-gelu' });
    expect(c).toEqual({ dModel: 512, dKv: 64, dFf: 1024, numLayers: 8, numDecoderLayers: 8, numHeads: 6, vocabSize: 32128, gated: true });
    expect(() => costConfigFromHf({ d_model: 512 })).toThrow(/costConfigFromHf: config\.\w+: expected an integer >= 1, got undefined/);
  });
});
