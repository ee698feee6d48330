// Generation reads instructions as given: one no longer than maxInstructionLength is used whole, a longer
// one is an error naming both lengths (the one cut policy is @tagi/datasets' prepareInstruction).
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyT5, useCpu } from './__fixtures__/tiny.js';
import { HypernetInputError } from './errors.js';
import { HyperNetwork } from './hypernet.js';
import { generateAdapter, generateAdapters } from './inference.js';

let base: ReturnType<typeof tinyT5>;
let hn: HyperNetwork;
beforeAll(async () => {
  await useCpu();
  base = tinyT5();
  hn = new HyperNetwork(base, { rank: 2, hiddenDim: 8, moduleEmbeddingDim: 4, maxInstructionLength: 4 }, { seed: 0 });
});
afterAll(() => {
  hn.dispose();
  base.dispose();
});

describe('instruction length at generation', () => {
  it('an instruction of exactly maxInstructionLength ids is read whole', () => {
    const before = tf.memory().numTensors;
    const task = generateAdapter(hn, [5, 6, 7, 1]);
    expect(task.instructionIds).toEqual([5, 6, 7, 1]);
    expect(task.instruction?.states.shape).toEqual([1, 4, base.config.dModel]);
    task.dispose();
    const batch = generateAdapters(hn, [
      [5, 6, 7, 1],
      [8, 1],
    ]);
    expect(batch.tasks).toBe(2);
    batch.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a longer one is refused, naming its length and the limit, and nothing leaks', () => {
    const before = tf.memory().numTensors;
    expect(() => generateAdapter(hn, [5, 6, 7, 8, 1])).toThrow(HypernetInputError);
    expect(() => generateAdapter(hn, [5, 6, 7, 8, 1])).toThrow(
      /^instructionIds: expected at most 4 ids \(the hypernetwork's maxInstructionLength; .*prepareInstruction.*\), got 5 ids$/,
    );
    expect(() =>
      generateAdapters(hn, [
        [5, 1],
        [5, 6, 7, 8, 9, 1],
      ]),
    ).toThrow(/^instructions\[1\]: expected at most 4 ids .*, got 6 ids$/);
    expect(() => generateAdapter(hn, [])).toThrow(/^instructionIds: expected a non-empty id list, got \[\]$/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
