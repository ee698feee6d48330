// The target_modules values that configs and presets use (apps/trainer presets and config tests, the
// packages' tests and benches) select the same Linear modules of a tiny T5 as they did when the two target
// matchers (lora's and hypernet's) were merged into one. The expected paths are written out, not computed
// by a matcher, so a change to the language shows up here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@tagi/tensor-core/testing';
import { type T5ForConditionalGeneration, createRandomT5, makeT5Config } from '@tagi/t5-model';
import { LoraConfigError, type TargetModules, loraConfig, parseLoraConfig, stringifyLoraConfig } from './config.js';
import { isTargetPattern, targetPatternError } from './target-modules.js';
import { TargetMatchError, linearModules, matchTargets, matchesTarget, targetModulesRegex } from './targets.js';

const tiny = (feedForwardProj: 'gated-gelu' | 'relu', tieWordEmbeddings: boolean): T5ForConditionalGeneration =>
  createRandomT5(
    makeT5Config({
      vocabSize: 32,
      dModel: 8,
      dKv: 4,
      numHeads: 2,
      dFf: 12,
      numLayers: 2,
      numDecoderLayers: 2,
      feedForwardProj,
      tieWordEmbeddings,
      dropoutRate: 0,
    }),
    0,
  );

const enc = (i: number) => `encoder.block.${i}.layer`;
const dec = (i: number) => `decoder.block.${i}.layer`;
/** Paths, in model order, of the named projections of every attention module. */
const attention = (names: readonly string[]): string[] =>
  [0, 1]
    .flatMap((i) => names.map((n) => `${enc(i)}.0.SelfAttention.${n}`))
    .concat([0, 1].flatMap((i) => [...names.map((n) => `${dec(i)}.0.SelfAttention.${n}`), ...names.map((n) => `${dec(i)}.1.EncDecAttention.${n}`)]));

// every Linear of the v1.1 layout (gated-gelu, untied) in registration order: what the matchers choose from
const GATED_UNTIED = [
  ...[0, 1].flatMap((i) => [
    ...['q', 'k', 'v', 'o'].map((n) => `${enc(i)}.0.SelfAttention.${n}`),
    ...['wi_0', 'wi_1', 'wo'].map((n) => `${enc(i)}.1.DenseReluDense.${n}`),
  ]),
  ...[0, 1].flatMap((i) => [
    ...['q', 'k', 'v', 'o'].map((n) => `${dec(i)}.0.SelfAttention.${n}`),
    ...['q', 'k', 'v', 'o'].map((n) => `${dec(i)}.1.EncDecAttention.${n}`),
    ...['wi_0', 'wi_1', 'wo'].map((n) => `${dec(i)}.2.DenseReluDense.${n}`),
  ]),
  'lm_head',
];
const FFN_GATED = [0, 1]
  .flatMap((i) => ['wi_0', 'wi_1', 'wo'].map((n) => `${enc(i)}.1.DenseReluDense.${n}`))
  .concat([0, 1].flatMap((i) => ['wi_0', 'wi_1', 'wo'].map((n) => `${dec(i)}.2.DenseReluDense.${n}`)));
const inModelOrder = (paths: readonly string[]) => GATED_UNTIED.filter((p) => paths.includes(p));

// [value, where it is used, the paths it selects in the gated untied tiny T5]
const CASES: [TargetModules | null, string, string[]][] = [
  [['q', 'v'], "presets T5_TARGETS; benches; peft's T5 default", attention(['q', 'v'])],
  [null, 'no target_modules: DEFAULT_T5_TARGETS', attention(['q', 'v'])],
  [['q', 'k', 'v', 'o'], 'presets ATTENTION (tiny teachers, multitask, hypernet)', attention(['q', 'k', 'v', 'o'])],
  [['q', 'k', 'v'], 'trainer config test: teachers.targetModules=q,k,v', attention(['q', 'k', 'v'])],
  [['q'], 'trainer config test: teachers.targetModules=q', attention(['q'])],
  [['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo'], 'lora teacher tests', inModelOrder([...attention(['q', 'k', 'v', 'o']), ...FFN_GATED])],
  [
    '.*SelfAttention\\.(q|v)',
    'trainer config test: a JSON string is a regex',
    inModelOrder(
      [0, 1].flatMap((i) => [`${enc(i)}.0.SelfAttention.q`, `${enc(i)}.0.SelfAttention.v`, `${dec(i)}.0.SelfAttention.q`, `${dec(i)}.0.SelfAttention.v`]),
    ),
  ],
  [
    ['SelfAttention.q', 'wo'],
    'hypernet tests: a dotted name is a suffix',
    inModelOrder([...[0, 1].flatMap((i) => [`${enc(i)}.0.SelfAttention.q`, `${dec(i)}.0.SelfAttention.q`]), ...FFN_GATED.filter((p) => p.endsWith('.wo'))]),
  ],
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
    expect(linearModules(relu).map((l) => l.path)).toEqual(
      GATED_UNTIED.filter((p) => p !== 'lm_head' && !p.endsWith('wi_1')).map((p) => p.replace(/wi_0$/, 'wi')),
    );
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

// hypernet_config.json has held regex list entries; the one language reads them here, for every consumer
const HYPERNET_DEFAULT_TARGETS = [
  'encoder\\.block\\.\\d+\\.layer\\.0\\.SelfAttention\\.(q|v)',
  'decoder\\.block\\.\\d+\\.layer\\.0\\.SelfAttention\\.(q|v)',
  'decoder\\.block\\.\\d+\\.layer\\.1\\.EncDecAttention\\.(q|v)',
];

describe('regex list entries', () => {
  let gated: T5ForConditionalGeneration;
  beforeAll(async () => {
    await useBackend('cpu');
    gated = tiny('gated-gelu', false);
  });
  afterAll(() => gated.dispose());

  it('an entry with regex syntax is a full-match regex; a dotted name is not', () => {
    expect(['q', 'SelfAttention.q', 'wi_0', 'encoder.block.0', 'lm_head'].map(isTargetPattern)).toEqual([false, false, false, false, false]);
    expect(['.*q', 'a\\.b', '(q|v)', 'q|v', 'q+', 'q?', '^q', 'q$', '[qv]', 'q{1}'].every(isTargetPattern)).toBe(true);
    expect(matchTargets(gated, HYPERNET_DEFAULT_TARGETS).map((t) => t.path)).toEqual(attention(['q', 'v']));
    // names and regex entries in one list: the union
    expect(matchTargets(gated, ['lm_head', 'decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.v']).map((t) => t.path)).toEqual([
      'decoder.block.0.layer.1.EncDecAttention.v',
      'lm_head',
    ]);
    // an entry is anchored at both ends, as a string is
    expect(matchesTarget('encoder.block.0.layer.0.SelfAttention.q', ['SelfAttention\\.q'])).toBe(false);
    expect(matchesTarget('encoder.block.0.layer.0.SelfAttention.q', ['.*SelfAttention\\.q'])).toBe(true);
  });

  it('strict matching names an unmatched regex entry with whole paths as candidates', () => {
    expect(() => matchTargets(gated, ['q', 'encoder\\.block\\.9\\..*'], { strict: true })).toThrow(
      /"encoder\\\\.block\\\\.9\\\\..\*" matches no Linear module; closest Linear module names: .*encoder\.block\.0\.layer\./,
    );
    expect(matchTargets(gated, ['q', 'encoder\\.block\\.9\\..*'])).toHaveLength(6);
  });

  it('targetModulesRegex: names grouped and sorted, then each regex entry in its order; selects the same', () => {
    expect(targetModulesRegex(['v', 'q'])).toBe('(?:.*\\.)?(?:q|v)');
    expect(targetModulesRegex(['v', 'a\\.b', 'q'])).toBe('(?:.*\\.)?(?:q|v)|(?:a\\.b)');
    expect(targetModulesRegex(HYPERNET_DEFAULT_TARGETS)).toBe(HYPERNET_DEFAULT_TARGETS.map((p) => `(?:${p})`).join('|'));
    for (const spec of [HYPERNET_DEFAULT_TARGETS, ['lm_head', 'wo', '.*EncDecAttention\\.(k|o)']]) {
      expect(
        matchTargets(gated, targetModulesRegex(spec)).map((t) => t.path),
        JSON.stringify(spec),
      ).toEqual(matchTargets(gated, spec).map((t) => t.path));
    }
  });

  it('adapter_config.json: a list with regex entries is written as the one equivalent regex (Python peft reads list entries as names); a list of names stays a list', () => {
    const mixed = loraConfig({ targetModules: ['q', 'decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.v'] });
    expect(mixed.targetModules).toEqual(['decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.v', 'q']); // the runtime object keeps the list
    const written = JSON.parse(stringifyLoraConfig(mixed)) as { target_modules: unknown };
    expect(written.target_modules).toBe('(?:.*\\.)?(?:q)|(?:decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.v)');
    expect(matchTargets(gated, parseLoraConfig(written).targetModules).map((t) => t.path)).toEqual(matchTargets(gated, mixed.targetModules).map((t) => t.path));
    expect((JSON.parse(stringifyLoraConfig(loraConfig({ targetModules: ['v', 'q'] }))) as { target_modules: unknown }).target_modules).toEqual(['q', 'v']);
  });

  it('an invalid regex entry is a config error naming its index', () => {
    expect(targetPatternError('(')).toMatch(/Invalid regular expression/);
    expect(targetPatternError('.*\\.q')).toBeUndefined();
    expect(() => parseLoraConfig({ target_modules: ['q', '('] })).toThrow(LoraConfigError);
    expect(() => parseLoraConfig({ target_modules: ['q', '('] })).toThrow(/target_modules\.1: not a valid regular expression/);
    expect(() => loraConfig({ targetModules: ['q', '('] })).toThrow(/targetModules\.1: not a valid regular expression/);
  });
});
