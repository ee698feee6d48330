// The target_modules values that configs and presets use (apps/trainer presets and config tests, the
// packages' tests and benches) select the same Linear modules of a tiny T5 as they did when the two target
// matchers (lora's and hypernet's) were merged into one. The expected paths are written out, not computed
// by a matcher, so a change to the language shows up here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@tagi/tensor-core/testing';
import { type T5ForConditionalGeneration, createRandomT5, makeT5Config } from '@tagi/t5-model';
import type { TargetModules } from './config.js';
import { TargetMatchError, linearModules, matchTargets, matchesTarget, targetModulesRegex } from './targets.js';

const tiny = (feedForwardProj: 'gated-gelu' | 'relu', tieWordEmbeddings: boolean): T5ForConditionalGeneration =>
  createRandomT5(makeT5Config({ vocabSize: 32, dModel: 8, dKv: 4, numHeads: 2, dFf: 12, numLayers: 2, numDecoderLayers: 2, feedForwardProj, tieWordEmbeddings, dropoutRate: 0 }), 0);

const enc = (i: number) => `encoder.block.${i}.layer`;
const dec = (i: number) => `decoder.block.${i}.layer`;
/** Paths, in model order, of the named projections of every attention module. */
const attention = (names: readonly string[]): string[] =>
  [0, 1]
    .flatMap((i) => names.map((n) => `${enc(i)}.0.SelfAttention.${n}`))
    .concat([0, 1].flatMap((i) => [...names.map((n) => `${dec(i)}.0.SelfAttention.${n}`), ...names.map((n) => `${dec(i)}.1.EncDecAttention.${n}`)]));

// every Linear of the v1.1 layout (gated-gelu, untied) in registration order: what the matchers choose from
const GATED_UNTIED = [
  ...[0, 1].flatMap((i) => [...['q', 'k', 'v', 'o'].map((n) => `${enc(i)}.0.SelfAttention.${n}`), ...['wi_0', 'wi_1', 'wo'].map((n) => `${enc(i)}.1.DenseReluDense.${n}`)]),
  ...[0, 1].flatMap((i) => [
    ...['q', 'k', 'v', 'o'].map((n) => `${dec(i)}.0.SelfAttention.${n}`),
    ...['q', 'k', 'v', 'o'].map((n) => `${dec(i)}.1.EncDecAttention.${n}`),
    ...['wi_0', 'wi_1', 'wo'].map((n) => `${dec(i)}.2.DenseReluDense.${n}`),
  ]),
  'lm_head',
];
const FFN_GATED = [0, 1].flatMap((i) => ['wi_0', 'wi_1', 'wo'].map((n) => `${enc(i)}.1.DenseReluDense.${n}`)).concat([0, 1].flatMap((i) => ['wi_0', 'wi_1', 'wo'].map((n) => `${dec(i)}.2.DenseReluDense.${n}`)));
const inModelOrder = (paths: readonly string[]) => GATED_UNTIED.filter((p) => paths.includes(p));

// [value, where it is used, the paths it selects in the gated untied tiny T5]
const CASES: [TargetModules | null, string, string[]][] = [
  [['q', 'v'], "presets T5_TARGETS; benches; peft's T5 default", attention(['q', 'v'])],
  [null, 'no target_modules: DEFAULT_T5_TARGETS', attention(['q', 'v'])],
  [['q', 'k', 'v', 'o'], 'presets ATTENTION (tiny teachers, multitask, hypernet)', attention(['q', 'k', 'v', 'o'])],
  [['q', 'k', 'v'], 'trainer config test: teachers.targetModules=q,k,v', attention(['q', 'k', 'v'])],
  [['q'], 'trainer config test: teachers.targetModules=q', attention(['q'])],
  [['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo'], 'lora teacher tests', inModelOrder([...attention(['q', 'k', 'v', 'o']), ...FFN_GATED])],
  ['.*SelfAttention\\.(q|v)', 'trainer config test: a JSON string is a regex', inModelOrder([0, 1].flatMap((i) => [`${enc(i)}.0.SelfAttention.q`, `${enc(i)}.0.SelfAttention.v`, `${dec(i)}.0.SelfAttention.q`, `${dec(i)}.0.SelfAttention.v`]))],
  [['SelfAttention.q', 'wo'], 'hypernet tests: a dotted name is a suffix', inModelOrder([...[0, 1].flatMap((i) => [`${enc(i)}.0.SelfAttention.q`, `${dec(i)}.0.SelfAttention.q`]), ...FFN_GATED.filter((p) => p.endsWith('.wo'))])],
  [['lm_head'], 'hypernet tests', ['lm_head']],
];

describe('target_modules values in use select what they selected before', () => {
  let gated: T5ForConditionalGeneration;
  let relu: T5ForConditionalGeneration;
  beforeAll(async () => {
    await useBackend('cpu');
    gated = tiny('gated-gelu', false);
    relu = tiny('relu', true);
  });
  afterAll(() => {
    gated.dispose();
    relu.dispose();
  });

  it('enumerates the Linear modules of the tiny T5 (the candidates)', () => {
    expect(linearModules(gated).map((l) => l.path)).toEqual(GATED_UNTIED);
    // v1.0 layout: one `wi`, and the tied head is the embedding, not a Linear
    expect(linearModules(relu).map((l) => l.path)).toEqual(GATED_UNTIED.filter((p) => p !== 'lm_head' && !p.endsWith('wi_1')).map((p) => p.replace(/wi_0$/, 'wi')));
  });

  for (const [value, where, want] of CASES) {
    it(`${JSON.stringify(value)} (${where})`, () => {
      expect(matchTargets(gated, value).map((t) => t.path)).toEqual(want);
      expect(GATED_UNTIED.filter((p) => matchesTarget(p, value ?? ['q', 'v']))).toEqual(want);
      // the one-regex form (what generated adapters' configs hold) selects the same
      if (value !== null) expect(matchTargets(gated, targetModulesRegex(value)).map((t) => t.path)).toEqual(want);
    });
  }

  it('the v1.0 layout (relu, tied) selects the same attention modules', () => {
    expect(matchTargets(relu, ['q', 'v']).map((t) => t.path)).toEqual(attention(['q', 'v']));
    expect(matchTargets(relu, ['q', 'k', 'v', 'o']).map((t) => t.path)).toEqual(attention(['q', 'k', 'v', 'o']));
  });

  it("a regex that is not a full match of any path selects nothing, as a string and as a list entry (the issue's `SelfAttention\\.(q|v)`)", () => {
    expect(() => matchTargets(gated, 'SelfAttention\\.(q|v)')).toThrow(TargetMatchError);
    expect(() => matchTargets(gated, ['SelfAttention\\.(q|v)'])).toThrow(TargetMatchError);
  });
});
