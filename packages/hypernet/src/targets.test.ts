// The `targets` values that hypernetwork configs use (the default, the trainer presets' lists, regex
// strings, and the regex list entries of hypernet_config.json files written before) select the same
// Linear modules of a tiny T5 as when the hypernetwork had its own matcher; so does the peft config of the
// adapters it generates. Expected paths are written out, not computed by a matcher.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchTargets } from '@tagi/lora';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { DEFAULT_TARGETS, TINY_HYPERNET_CONFIG } from './config.js';
import { HypernetConfigError } from './errors.js';
import { HyperNetwork, resolveTargets } from './hypernet.js';
import { generatedLoraConfig } from './inference.js';

let base: ReturnType<typeof tinyT5>;
beforeAll(async () => {
  await useCpu();
  base = tinyT5();
});
afterAll(() => base.dispose());

const enc = (i: number) => `encoder.block.${i}.layer`;
const dec = (i: number) => `decoder.block.${i}.layer`;
const encSelf = (names: readonly string[]) => [0, 1].flatMap((i) => names.map((n) => `${enc(i)}.0.SelfAttention.${n}`));
const decSelf = (names: readonly string[]) => [0, 1].flatMap((i) => names.map((n) => `${dec(i)}.0.SelfAttention.${n}`));
const cross = (names: readonly string[]) => [0, 1].flatMap((i) => names.map((n) => `${dec(i)}.1.EncDecAttention.${n}`));
const sorted = (xs: readonly string[]) => [...xs].sort();

// [value, where it is used, the paths it selects (as a set; resolveTargets orders them by shape group)]
const CASES: [string | readonly string[] | undefined, string, string[]][] = [
  [undefined, 'DEFAULT_HYPERNET_CONFIG (regex list entries)', [...encSelf(['q', 'v']), ...decSelf(['q', 'v']), ...cross(['q', 'v'])]],
  [DEFAULT_TARGETS, 'DEFAULT_TARGETS written into hypernet_config.json', [...encSelf(['q', 'v']), ...decSelf(['q', 'v']), ...cross(['q', 'v'])]],
  [['q', 'v'], 'presets T5_TARGETS; bench serving', [...encSelf(['q', 'v']), ...decSelf(['q', 'v']), ...cross(['q', 'v'])]],
  [
    ['q', 'k', 'v', 'o'],
    'presets ATTENTION; trainer serving test; bench finetune-step',
    [...encSelf(['q', 'k', 'v', 'o']), ...decSelf(['q', 'k', 'v', 'o']), ...cross(['q', 'k', 'v', 'o'])],
  ],
  ['.*SelfAttention\\.(q|v)', 'a regex string', [...encSelf(['q', 'v']), ...decSelf(['q', 'v'])]],
  [
    ['q', 'decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.v'],
    'a name and a regex entry in one list',
    [...encSelf(['q']), ...decSelf(['q']), ...cross(['q']), `${dec(0)}.1.EncDecAttention.v`],
  ],
  [
    ['encoder\\.block\\.0\\.layer\\.1\\.DenseReluDense\\.(wi_0|wo)'],
    'hypernet tests: feed-forward',
    [`${enc(0)}.1.DenseReluDense.wi_0`, `${enc(0)}.1.DenseReluDense.wo`],
  ],
];

describe('hypernetwork targets in use select what they selected before', () => {
  for (const [targets, where, want] of CASES) {
    it(`${JSON.stringify(targets ?? 'default')} (${where})`, () => {
      const hn = new HyperNetwork(base, { ...TINY_HYPERNET_CONFIG, hiddenDim: 8, moduleEmbeddingDim: 4, ...(targets !== undefined ? { targets } : {}) });
      try {
        expect(sorted(hn.targetModules.map((t) => t.path))).toEqual(sorted(want));
        expect(sorted(resolveTargets(base, hn.config.targets).map((t) => t.path))).toEqual(sorted(want));
        // generated adapters' peft config (one regex) selects the same modules under @tagi/lora's rules
        const peftTargets = generatedLoraConfig(hn).targetModules;
        expect(typeof peftTargets).toBe('string');
        expect(sorted(matchTargets(base, peftTargets).map((t) => t.path))).toEqual(sorted(want));
      } finally {
        hn.dispose();
      }
    });
  }

  it("a regex entry that is not a full match of any path selects nothing (the issue's `SelfAttention\\.(q|v)`)", () => {
    expect(() => resolveTargets(base, ['SelfAttention\\.(q|v)'])).toThrow(HypernetConfigError);
    expect(() => resolveTargets(base, 'SelfAttention\\.(q|v)')).toThrow(HypernetConfigError);
  });
});
