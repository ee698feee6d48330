// One set of rules for a run's config.json: the playground reads `prompt` through @tagi/run-dir's
// parseRunPrompt, and the trainer's schema takes its bounds from the same PROMPT_LIMITS. Every value the
// trainer rejects there is rejected by the reader, naming the same key; every value it accepts reads back.
import { PROMPT_LIMITS, RunConfigError, parseRunPrompt } from '@tagi/run-dir';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../common/errors.js';
import { validateConfig } from './config.js';
import { PRESETS } from './presets.js';

const smoke = PRESETS['smoke']!;
const withPrompt = (key: string, value: unknown) => ({ ...smoke, prompt: { ...(smoke['prompt'] as object), [key]: value } });

function trainerProblems(config: unknown): readonly string[] {
  try {
    validateConfig(config, 'config.json');
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe('config.json prompt settings: the trainer and the run-dir reader agree', () => {
  const cases: [keyof typeof PROMPT_LIMITS, unknown][] = [
    ['numPos', -1],
    ['numPos', 9],
    ['numPos', 1.5],
    ['numPos', '2'],
    ['maxSourceLength', 7],
    ['maxSourceLength', 2],
    ['maxSourceLength', 0],
    ['maxSourceLength', null],
  ];
  it.each(cases)('prompt.%s = %j is rejected by both, naming prompt.<key>', (key, value) => {
    const config = withPrompt(key, value);
    expect(trainerProblems(config).some((p) => p.startsWith(`prompt.${key}`))).toBe(true);
    expect(() => parseRunPrompt(config, 'run/config.json')).toThrow(RunConfigError);
    expect(() => parseRunPrompt(config, 'run/config.json')).toThrow(new RegExp(`^run/config\\.json: prompt\\.${key}: expected an integer`));
  });

  const bounds: [keyof typeof PROMPT_LIMITS, number][] = [
    ['numPos', PROMPT_LIMITS.numPos.min],
    ['numPos', PROMPT_LIMITS.numPos.max],
    ['maxSourceLength', PROMPT_LIMITS.maxSourceLength.min],
  ];
  it.each(bounds)('prompt.%s = %j (a bound) is accepted by both', (key, value) => {
    const config = withPrompt(key, value);
    expect(trainerProblems(config)).toEqual([]);
    const read = parseRunPrompt(config);
    expect(key === 'numPos' ? read.numPositive : read.maxSourceTokens).toBe(value);
  });

  it('reads what the trainer wrote: a preset config gives its own prompt settings', () => {
    const c = validateConfig(smoke, 'smoke');
    expect(parseRunPrompt(JSON.parse(JSON.stringify(c)))).toEqual({
      numPositive: c.prompt.numPos,
      maxSourceTokens: c.prompt.maxSourceLength,
      fromConfig: true,
    });
  });
});
