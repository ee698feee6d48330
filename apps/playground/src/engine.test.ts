import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { saveT5 } from '@tagi/t5-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TagiEngine, concatenatedInput } from './engine';

describe('TagiEngine on an HF T5 dir', () => {
  let tmp: string;
  let dir: string;
  let engine: TagiEngine;
  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-engine-')));
    dir = path.join(tmp, 'tiny-t5');
    engine = new TagiEngine({ backend: 'cpu', maxNewTokens: 6 });
    await initBackend({ backend: 'cpu' });
    const model = createRandomT5(makeT5Config({ vocabSize: 32128, dModel: 16, dKv: 4, numHeads: 2, dFf: 16, numLayers: 1, relativeAttentionNumBuckets: 8, relativeAttentionMaxDistance: 16 }), 11);
    await saveT5(model, dir);
    model.dispose();
  });
  afterAll(() => {
    engine.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('says which models it can run and why not', async () => {
    const info = await engine.open(dir);
    expect(info.kind).toBe('t5');
    expect(info.where).toBe('node-server');
    expect(info.models.base).toEqual({ available: true, dir });
    expect(info.models.concat.available).toBe(false);
    expect(info.models.concat.reason).toMatch(/plain HF T5 dir has no multitask checkpoint/);
    expect(info.models.tagi.available).toBe(false);
    expect(info.models.tagi.reason).toMatch(/no hypernet checkpoint/);
  });

  it('re-scans a dir on open (a run in progress gains checkpoints)', async () => {
    const run = path.join(tmp, 'growing-run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), '');
    expect((await engine.open(run)).models.base.available).toBe(false);
    fs.cpSync(dir, path.join(run, 'base-model'), { recursive: true });
    expect((await engine.open(run)).models.base).toEqual({ available: true, dir: path.join(run, 'base-model') });
  });

  it('refuses a dir that is neither a run nor a model', async () => {
    await expect(engine.open(tmp)).rejects.toThrow(/neither a run dir .* nor an HF T5 dir/);
  });

  it('runs the base model on the concatenated prompt; outputs do not depend on the batch they are in; no leaks', async () => {
    const instruction = 'Write the word backwards.';
    const inputs = ['apple', 'a much longer input sentence with many words'];
    const all = await engine.run(dir, instruction, undefined, inputs);
    expect(all.map((r) => r.model)).toEqual(['tagi', 'base', 'concat']);
    expect(all[0]!.error).toMatch(/no hypernet checkpoint/);
    const base = all[1]!;
    expect(base.outputs).toHaveLength(2);
    expect(base.ms).toBeGreaterThan(0);
    const before = tf.memory().numTensors;
    const alone = await engine.run(dir, instruction, undefined, [inputs[1]!]);
    expect(tf.memory().numTensors).toBe(before);
    expect(alone[1]!.outputs).toEqual([base.outputs![1]]);
    expect(all[2]!.error).toMatch(/no multitask checkpoint/);
  });

  it('formats the concatenated prompt as Tk-Instruct does', () => {
    expect(concatenatedInput('Reverse the word', 'cat')).toBe('Definition: Reverse the word.\n\nNow complete the following example -\nInput: cat.\nOutput: ');
    expect(concatenatedInput('Definition: Reverse it.\n\n', 'cat')).toBe('Definition: Reverse it.\n\nNow complete the following example -\nInput: cat.\nOutput: ');
  });
});
