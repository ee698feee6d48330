import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LoraConfigError, loraConfig, loraConfigToJson, loraScaling, parseLoraConfig, parseLoraConfigText, stringifyLoraConfig } from './config.js';

const goldenText = fs.readFileSync(path.resolve(import.meta.dirname, '..', '__fixtures__', 'tiny-gated-untied', 'lora', 'adapter_config.json'), 'utf8');

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LoraConfigError);
    return [...(e as LoraConfigError).problems];
  }
  throw new Error('expected a LoraConfigError');
}

describe('LoraConfig', () => {
  it('reads the adapter_config.json peft 0.21 wrote, keeping every unknown field', () => {
    const c = parseLoraConfigText(goldenText);
    expect(c).toMatchObject({
      peftType: 'LORA',
      r: 4,
      loraAlpha: 8,
      loraDropout: 0,
      targetModules: ['q', 'v'],
      useRslora: false,
      taskType: 'SEQ_2_SEQ_LM',
      inferenceMode: true,
      baseModelNameOrPath: 'tiny-gated-untied',
    });
    expect(c.extra['peft_version']).toBe('0.21.0');
    expect(c.extra['loftq_config']).toEqual({});
    expect(loraScaling(c)).toBe(2);
    // every key of the file comes back with the same value (peft's file is itself sorted, 2-space)
    const original = JSON.parse(goldenText) as Record<string, unknown>;
    expect(loraConfigToJson(c)).toEqual(original);
    const written = stringifyLoraConfig(c);
    expect(JSON.parse(written)).toEqual(original);
    expect(Object.keys(JSON.parse(written) as object)).toEqual(Object.keys(original).sort());
  });

  it('writes sorted keys at every level with 2-space indent, and round-trips', () => {
    const c = loraConfig({ r: 16, loraAlpha: 32, targetModules: ['v', 'q', 'q'], extra: { zeta: { b: 1, a: 2 }, alpha_pattern: {} } });
    expect(c.targetModules).toEqual(['q', 'v']); // a set: sorted, duplicates collapsed
    const text = stringifyLoraConfig(c);
    expect(text).toContain('\n  "alpha_pattern": {},\n');
    expect(text.indexOf('"a": 2')).toBeLessThan(text.indexOf('"b": 1'));
    const back = parseLoraConfigText(text);
    expect(back).toEqual(c);
    expect(stringifyLoraConfig(back)).toBe(text);
  });

  it('takes target_modules as a regex string', () => {
    const c = parseLoraConfig({ target_modules: '.*SelfAttention\\.(q|v)' });
    expect(c.targetModules).toBe('.*SelfAttention\\.(q|v)');
    expect(problems(() => parseLoraConfig({ target_modules: '(' }))[0]).toMatch(/^target_modules: not a valid regular expression/);
  });

  it('rsLoRA scales by alpha / sqrt(r)', () => {
    expect(loraScaling(loraConfig({ r: 16, loraAlpha: 8, useRslora: true }))).toBe(2);
    expect(loraScaling(loraConfig({ r: 16, loraAlpha: 8 }))).toBe(0.5);
  });

  it('rejects an unknown peft_type and every bad field as dot.path: message', () => {
    expect(() => parseLoraConfig({ peft_type: 'IA3' })).toThrow(/peft_type: only 'LORA' is supported, got "IA3"/);
    const p = problems(() =>
      parseLoraConfig({
        r: 0,
        lora_alpha: 'x',
        lora_dropout: 1,
        bias: 'all',
        fan_in_fan_out: true,
        use_rslora: 'yes',
        target_modules: ['q', 3],
        use_dora: true,
      }),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^r: must be a positive integer/),
        expect.stringMatching(/^lora_alpha: must be a positive number/),
        expect.stringMatching(/^lora_dropout: must be a number in \[0, 1\)/),
        expect.stringMatching(/^bias: only 'none'/),
        expect.stringMatching(/^fan_in_fan_out: only false/),
        expect.stringMatching(/^use_rslora: must be true or false/),
        expect.stringMatching(/^target_modules\.1: must be a non-empty module name/),
        expect.stringMatching(/^use_dora: not supported/),
      ]),
    );
    expect(p).toHaveLength(8);
    expect(problems(() => parseLoraConfig({ rank_pattern: { q: 8 } }))[0]).toMatch(/^rank_pattern: not supported/);
    expect(problems(() => parseLoraConfigText('{ nope'))[0]).toMatch(/^<root>: not valid JSON/);
  });

  it('loraConfig names camelCase fields in its errors', () => {
    expect(problems(() => loraConfig({ loraDropout: -0.5 }))[0]).toMatch(/^loraDropout: /);
  });
});
