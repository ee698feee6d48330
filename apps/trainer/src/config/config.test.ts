import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stableJson } from '@tagi/run-dir/node';
import { CONFIG_KEYS, coerceValue, kebabToCamel, validateConfig, withNumPos } from './config.js';
import { InstructionInputs, embeddedSuite } from '@tagi/datasets';
import { loadDefaultT5Tokenizer } from '@tagi/t5-model/node';
import { ConfigError, CliError } from '../common/errors.js';
import { PEFT_ONLY_HYPERNET_CONFIG } from '@tagi/hypernet';
import { PRESETS, PRESET_NAMES } from './presets.js';
import { resolveConfig } from './resolve.js';
import { editDistance, suggest } from '../common/suggest.js';

describe('presets', () => {
  it.each(PRESET_NAMES)('%s is a valid config', (name) => {
    expect(() => validateConfig(PRESETS[name], name)).not.toThrow();
  });

  it('smoke is smaller than tiny in every training stage', () => {
    const s = PRESETS['smoke']!;
    const t = PRESETS['tiny']!;
    expect(s.base.train.steps).toBeLessThan(t.base.train.steps);
    expect(s.hypernet.finetune.steps).toBeLessThan(t.hypernet.finetune.steps);
    expect(s.base.dModel).toBeLessThan(t.base.dModel);
  });

  it("tiny-peft is tiny with the fusion of @tagi/hypernet's PEFT_ONLY_HYPERNET_CONFIG, nothing else changed", () => {
    const t = PRESETS['tiny']!;
    const p = PRESETS['tiny-peft']!;
    expect(p.hypernet.fusion).toBe(PEFT_ONLY_HYPERNET_CONFIG.fusion);
    expect(t.hypernet.fusion).not.toBe(p.hypernet.fusion);
    expect({ ...p, preset: 'tiny', hypernet: { ...p.hypernet, fusion: t.hypernet.fusion } }).toEqual(t);
    expect(resolveConfig({ preset: 'tiny-peft' }).hypernet.fusion).toBe('none');
  });

  it('tiny finetunes several tasks per update, a divisor of the batch, and trains >= 3 hypernetwork seeds', () => {
    const f = PRESETS['tiny']!.hypernet.finetune;
    expect(f.tasksPerBatch).toBeGreaterThan(1);
    expect(f.batchSize % f.tasksPerBatch).toBe(0);
    expect(PRESETS['tiny']!.hypernet.seeds).toBeGreaterThanOrEqual(3);
    expect(() => validateConfig({ ...PRESETS['tiny']!, hypernet: { ...PRESETS['tiny']!.hypernet, finetune: { ...f, tasksPerBatch: 7 } } }, 'x')).toThrow(
      /hypernet\.finetune\.tasksPerBatch: 7 must divide hypernet\.finetune\.batchSize \(64\)/,
    );
  });

  it('LM-adapt presets carry the paper/repo settings', () => {
    for (const name of ['t5-small-lm-adapt', 't5-base-lm-adapt']) {
      const p = PRESETS[name]!;
      expect(p.prompt.maxSourceLength).toBe(1024);
      expect(p.prompt.maxTargetLength).toBe(128);
      expect(p.prompt.numPos).toBe(2);
      expect(p.hypernet.rank).toBe(32);
      expect(p.distill.temperature).toBe(3);
    }
    expect(PRESETS['t5-base-lm-adapt']!.base.dModel).toBe(768);
    // t5-base trains in parts of one example in every stage (a batch of 8 in one pass does not fit 24 GB)
    const b = PRESETS['t5-base-lm-adapt']!;
    for (const t of [b.teachers.train, b.multitask.train, b.hypernet.pretrain, b.hypernet.finetune]) expect(t.microBatchSize).toBe(1);
    expect(validateConfig(b, 'preset')).toEqual(b);
    expect(PRESETS['t5-small-lm-adapt']!.base.numLayers).toBe(8);
  });
});

describe('resolveConfig', () => {
  it('defaults to the tiny preset', () => {
    expect(resolveConfig({}).preset).toBe('tiny');
  });

  it('applies dotted overrides with the schema type', () => {
    const c = resolveConfig({
      preset: 'smoke',
      overrides: [
        ['base.train.steps', '7'],
        ['base.pruneVocab', 'false'],
        ['teachers.targetModules', 'q,k,v'],
        ['backend', 'cpu'],
      ],
    });
    expect(c.base.train.steps).toBe(7);
    expect(c.base.pruneVocab).toBe(false);
    expect(c.teachers.targetModules).toEqual(['q', 'k', 'v']);
    expect(c.backend).toBe('cpu');
  });

  it('gives the multitask adapter its own target modules, validated once as peft target_modules', () => {
    const c = resolveConfig({
      preset: 'smoke',
      overrides: [
        ['multitask.targetModules', 'q,k,v,o'],
        ['teachers.targetModules', 'q'],
      ],
    });
    expect(c.multitask.targetModules).toEqual(['q', 'k', 'v', 'o']);
    expect(c.teachers.targetModules).toEqual(['q']);
    expect(() => resolveConfig({ overrides: [['teachers.rank', '0']] })).toThrow(/teachers\.rank: /);
    expect(() => resolveConfig({ overrides: [['hypernet.targetModules', '[]']] })).toThrow(/hypernet\.targetModules/);
  });

  it('rejects an unknown key with a suggestion', () => {
    expect(() => resolveConfig({ overrides: [['base.train.step', '3']] })).toThrow(/base\.train\.step: unknown key \(did you mean 'base\.train\.steps'/);
    expect(() => resolveConfig({ overrides: [['lambdaKl', '3']] })).toThrow(/did you mean 'distill\.lambdaKl'/);
  });

  it('rejects a bad value naming the key', () => {
    expect(() => resolveConfig({ overrides: [['base.train.steps', 'many']] })).toThrow(/base\.train\.steps: expected a number, got 'many'/);
    expect(() => resolveConfig({ overrides: [['base.train.lr', '-1']] })).toThrow(ConfigError);
    expect(() => resolveConfig({ overrides: [['backend', 'gpu']] })).toThrow(/backend: /);
  });

  it('rejects an unknown preset with a suggestion', () => {
    expect(() => resolveConfig({ preset: 'tiyn' })).toThrow(CliError);
    expect(() => resolveConfig({ preset: 'tiyn' })).toThrow(/unknown preset 'tiyn' \(did you mean 'tiny'/);
  });

  it('merges a config file between preset and overrides, and names the file on unknown keys', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tagi-cfg-'));
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ preset: 'smoke', seed: 7, base: { train: { steps: 9 } } }));
    const c = resolveConfig({ configFile: file, overrides: [['seed', '8']] });
    expect(c.preset).toBe('smoke');
    expect(c.seed).toBe(8);
    expect(c.base.train.steps).toBe(9);
    expect(c.base.train.batchSize).toBe(PRESETS['smoke']!.base.train.batchSize);
    writeFileSync(file, JSON.stringify({ distill: { lamdaKl: 1 } }));
    expect(() => resolveConfig({ configFile: file })).toThrow(/c\.json[\s\S]*distill\.lamdaKl: unknown key \(did you mean 'distill\.lambdaKl'/);
    writeFileSync(file, '{ not json');
    expect(() => resolveConfig({ configFile: file })).toThrow(/not valid JSON/);
    expect(() => resolveConfig({ configFile: path.join(dir, 'missing.json') })).toThrow(/cannot read/);
  });

  it('stableJson is deterministic and round-trips through the schema', () => {
    const c = resolveConfig({ preset: 'tiny' });
    const text = stableJson(c);
    expect(stableJson(JSON.parse(text))).toBe(text);
    expect(validateConfig(JSON.parse(text), 'round trip')).toEqual(c);
  });
});

describe('keys and suggestions', () => {
  it('kebab-case segments map to camelCase keys', () => {
    expect(kebabToCamel('run-dir')).toBe('runDir');
    expect(kebabToCamel('distill.lambda-kl')).toBe('distill.lambdaKl');
    expect(CONFIG_KEYS.has('hypernet.pretrain.segmentA')).toBe(true);
  });

  it('coerceValue follows the leaf kind', () => {
    expect(coerceValue('seed', '3')).toBe(3);
    expect(coerceValue('base.pruneVocab', 'true')).toBe(true);
    expect(coerceValue('teachers.targetModules', '["q"]')).toEqual(['q']);
    // peft's target language: a list of names, or a JSON string = a full-match regex
    expect(coerceValue('multitask.targetModules', 'q,k, v')).toEqual(['q', 'k', 'v']);
    expect(coerceValue('hypernet.targetModules', '".*SelfAttention\\\\.(q|v)"')).toBe('.*SelfAttention\\.(q|v)');
    expect(() => coerceValue('hypernet.targetModules', '"unterminated')).toThrow(/hypernet\.targetModules: expected a comma-separated list/);
    expect(() => coerceValue('base.pruneVocab', 'maybe')).toThrow(/expected true or false/);
  });

  it('edit distance and suggestions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(suggest('tiyn', ['smoke', 'tiny'])).toEqual(['tiny']);
    expect(suggest('zzzzzz', ['smoke', 'tiny'])).toEqual([]);
  });
});

describe('withNumPos (the Def+2Pos setting of tagi experiment paper)', () => {
  it('grows the source budget with the demonstrations, never shrinks it, and is the config itself for its own setting', () => {
    const tiny = resolveConfig({ preset: 'tiny', overrides: [] });
    expect(withNumPos(tiny, undefined)).toBe(tiny);
    expect(withNumPos(tiny, tiny.prompt.numPos)).toBe(tiny);
    const two = withNumPos(tiny, 2);
    expect(two.prompt).toEqual({ ...tiny.prompt, numPos: 2, maxSourceLength: tiny.prompt.maxSourceLength * 3 });
    expect(tiny.prompt.numPos).toBe(0); // the run's config is not changed
    const lm = resolveConfig({ preset: 't5-small-lm-adapt', overrides: [] });
    expect(withNumPos(lm, 0).prompt.maxSourceLength).toBe(lm.prompt.maxSourceLength);
  });

  it("fits every Def+2Pos prompt of the embedded suite in the tiny preset's grown budget (no demonstration dropped)", () => {
    const tiny = resolveConfig({ preset: 'tiny', overrides: [] });
    const tok = loadDefaultT5Tokenizer();
    const suite = embeddedSuite({ seed: 0 });
    const tasks = [...suite.train.filter((_, i) => i % 8 === 0), ...suite.heldOut.filter((_, i) => i % 8 === 0)];
    const fits = new InstructionInputs(tok, withNumPos(tiny, 2).prompt);
    const cut = new InstructionInputs(tok, { ...tiny.prompt, numPos: 2 });
    for (const task of tasks) {
      for (const instance of task.instances.slice(0, 4)) {
        fits.concatenatedIds(task, instance.input);
        cut.concatenatedIds(task, instance.input);
      }
    }
    expect(fits.summary()).toBeUndefined();
    expect(cut.summary()).toMatch(/demonstrations dropped/); // what the 64-token budget did
  });
});
