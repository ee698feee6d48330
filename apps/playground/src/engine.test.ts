import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { DEFAULT_TOKENIZER_DIR, loadT5Tokenizer, saveT5 } from '@tagi/t5-model/node';
import { prepareInstruction } from '@tagi/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDoneRunState } from '../test/synthetic-run';
import { TagiEngine } from './engine';

describe('TagiEngine on an HF T5 dir', () => {
  let tmp: string;
  let dir: string;
  let engine: TagiEngine;
  beforeAll(async () => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-engine-')));
    dir = path.join(tmp, 'tiny-t5');
    engine = new TagiEngine({ backend: 'cpu', maxNewTokens: 6 });
    await initBackend({ backend: 'cpu' });
    const model = createRandomT5(
      makeT5Config({
        vocabSize: 32128,
        dModel: 16,
        dKv: 4,
        numHeads: 2,
        dFf: 16,
        numLayers: 1,
        relativeAttentionNumBuckets: 8,
        relativeAttentionMaxDistance: 16,
      }),
      11,
    );
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
    expect(info.models.tagi.reason).toMatch(/an HF T5 dir on its own has no hypernetwork/);
    // no run config: the defaults (the definition alone; the engine's input budget)
    expect(info.prompt).toEqual({ numPositive: 0, maxSourceTokens: 512, maxInstructionTokens: 512, from: 'default' });
  });

  it('re-reads the run state on open (a run in progress gains artefacts), and says what is still running', async () => {
    const run = path.join(tmp, 'growing-run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), '');
    expect((await engine.open(run)).models.base.reason).toMatch(/no trainer_state\.json/);
    // a base model dir without the run state recording it is not found: roles come from trainer_state.json only
    fs.cpSync(dir, path.join(run, 'base-model'), { recursive: true });
    expect((await engine.open(run)).models.base.available).toBe(false);
    await writeDoneRunState(run, [{ role: 'base-model', kind: 't5', path: 'base-model' }]);
    const state = JSON.parse(fs.readFileSync(path.join(run, 'trainer_state.json'), 'utf8'));
    state.stages['hypernet-tagi'] = { status: 'running', step: 3, totalSteps: 10, checkpoints: 'checkpoints/hypernet-tagi' };
    fs.writeFileSync(path.join(run, 'trainer_state.json'), JSON.stringify(state));
    const info = await engine.open(run);
    expect(info.models.base).toEqual({ available: true, dir: path.join(run, 'base-model'), role: 'base-model' });
    expect(info.models.tagi.reason).toMatch(/no hypernetwork in this run .*'hypernet-tagi'.*; still running: hypernet-tagi at step 3 of 10/);
  });

  it('opens a run of an older tagi (run state version 1) with a clear message, not a crash', async () => {
    const run = path.join(tmp, 'v1-run');
    fs.mkdirSync(run);
    fs.cpSync(dir, path.join(run, 'base-model'), { recursive: true });
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), '{"step":1,"loss":2}\n');
    // the layout tagi wrote before run state version 2: outputs by key, no roles
    fs.writeFileSync(
      path.join(run, 'trainer_state.json'),
      JSON.stringify({
        version: 1,
        configHash: 'x',
        stages: { base: { status: 'done', step: 4, totalSteps: 4, outputs: { model: path.join(run, 'base-model') } } },
      }),
    );
    const info = await engine.open(run);
    expect(info.runState).toMatch(/trainer_state\.json: format: written by an older tagi \(run-state version 1, no roles\); start a new run/);
    for (const m of ['base', 'tagi', 'concat'] as const) {
      expect(info.models[m].available).toBe(false);
      expect(info.models[m].reason).toMatch(/run-state version 1/);
    }
    const { results } = await engine.run(run, { instruction: 'Say hi.' }, undefined, ['x']);
    expect(results.map((r) => r.error)).toEqual(Array(3).fill(expect.stringMatching(/run-state version 1/)));
  });

  it('refuses a dir that is neither a run nor a model', async () => {
    await expect(engine.open(tmp)).rejects.toThrow(/neither a run dir .* nor an HF T5 dir/);
  });

  it('runs the base model on the concatenated prompt; outputs do not depend on the batch they are in; no leaks', async () => {
    const instruction = { instruction: 'Write the word backwards.' };
    const inputs = ['apple', 'a much longer input sentence with many words'];
    const { results: all, warnings } = await engine.run(dir, instruction, undefined, inputs);
    expect(warnings).toEqual([]);
    expect(all.map((r) => r.model)).toEqual(['tagi', 'base', 'concat']);
    expect(all[0]!.error).toMatch(/no hypernetwork/);
    const base = all[1]!;
    expect(base.outputs).toHaveLength(2);
    expect(base.ms).toBeGreaterThan(0);
    const before = tf.memory().numTensors;
    const { results: alone } = await engine.run(dir, instruction, undefined, [inputs[1]!]);
    expect(tf.memory().numTensors).toBe(before);
    expect(alone[1]!.outputs).toEqual([base.outputs![1]]);
    expect(all[2]!.error).toMatch(/no multitask checkpoint/);
  });

  it('gives the concatenated columns the Tk-Instruct prompt of prepareInstruction, with or without a typed "Definition:" label', async () => {
    const tok = loadT5Tokenizer(DEFAULT_TOKENIZER_DIR);
    const expected = tok.encode('Definition: Reverse the word.\n\nNow complete the following example -\nInput: cat.\nOutput: ');
    for (const typed of ['Reverse the word', 'Definition: Reverse the word']) {
      const ids = await engine.prepare(dir, { instruction: typed }, ['cat']);
      expect(ids.concatenatedIds).toEqual([expected]);
      expect(ids.concatenatedIds).toEqual([[...prepareInstruction(typed, {}, { encoder: tok, maxSourceTokens: 512 }).forInput('cat').concatenatedIds!]]);
      expect(ids.studentIds).toEqual([tok.encode('cat')]);
      expect(ids.instructionIds).toEqual(tok.encode('Definition: Reverse the word.\n\n'));
    }
  });

  it('cuts an over-long input as training does (end cut, eos kept) and says so', async () => {
    const small = new TagiEngine({ backend: 'cpu', maxInputTokens: 12 });
    try {
      const ids = await small.prepare(dir, { instruction: 'Reverse the word' }, ['one two three four five six seven eight nine ten eleven twelve']);
      expect(ids.studentIds[0]).toHaveLength(12);
      expect(ids.studentIds[0]!.at(-1)).toBe(1);
      expect(ids.concatenatedIds[0]).toHaveLength(12);
      expect(ids.warnings).toEqual([
        expect.stringMatching(
          /^the instruction \+ input 1 prompt .*: \d+ tokens, more than the 12 the run allows; \d+ tokens cut from the end of the definition, \d+ tokens cut from the end of the input \(eos kept\)/,
        ),
        expect.stringMatching(/^input 1 \(what TAGI's student reads\): \d+ tokens, more than the 12 the run allows; \d+ tokens cut from the end of the input/),
      ]);
    } finally {
      small.dispose();
    }
  });
});
