// A run's config.json as the playground reads it: @tagi/run-dir's rules (the trainer's limits), the file and
// key named in every refusal, and the roots' resolver asked before anything is read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunConfigError, readRunPrompt } from './run-models';

const made: string[] = [];
const runWith = (config: string | undefined): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-config-'));
  made.push(d);
  if (config !== undefined) fs.writeFileSync(path.join(d, 'config.json'), config);
  return d;
};
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
const asIs = (file: string) => file;

describe('readRunPrompt', () => {
  it("gives the run's prompt settings, and the defaults for a dir without a run config", () => {
    expect(readRunPrompt(runWith(JSON.stringify({ prompt: { numPos: 2, maxSourceLength: 64 } })), asIs)).toEqual({
      numPositive: 2,
      maxSourceTokens: 64,
      fromConfig: true,
    });
    expect(readRunPrompt(runWith(undefined), asIs)).toEqual({ numPositive: 0, maxSourceTokens: undefined, fromConfig: false });
    expect(readRunPrompt(runWith(JSON.stringify({ d_model: 8 })), asIs)).toEqual({ numPositive: 0, maxSourceTokens: undefined, fromConfig: false });
  });

  it('refuses a value the trainer refuses, naming the file and the key', () => {
    const d = runWith(JSON.stringify({ prompt: { numPos: 1, maxSourceLength: 4 } }));
    expect(() => readRunPrompt(d, asIs)).toThrow(RunConfigError);
    expect(() => readRunPrompt(d, asIs)).toThrow(`${path.join(d, 'config.json')}: prompt.maxSourceLength: expected an integer >= 8, got 4`);
    expect(() => readRunPrompt(runWith(JSON.stringify({ prompt: { numPos: 9 } })), asIs)).toThrow(/prompt\.numPos: expected an integer from 0 to 8, got 9/);
    expect(() => readRunPrompt(runWith('{ "prompt": '), asIs)).toThrow(/config\.json: not valid JSON/);
  });

  it('asks the resolver before reading', () => {
    const d = runWith(JSON.stringify({ prompt: { numPos: 1 } }));
    expect(() =>
      readRunPrompt(d, () => {
        throw new Error('outside the roots');
      }),
    ).toThrow('outside the roots');
  });
});
