// Weight initialisers, all drawing from an explicit `Rng` so the same seed gives the same weights.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from './rng.js';

/** Makes a float32 tensor of `shape` from `rng`. */
export type Initializer = (shape: readonly number[], rng: Rng) => tf.Tensor;

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** fanIn / fanOut as PyTorch computes them (`[out, in, ...receptive]`). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new RangeError(`fans: need a shape of rank >= 2, got [${shape.join(', ')}]`);
  }
  const receptive = size(shape.slice(2));
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

export function normalInit(opts: { mean?: number; std?: number } = {}): Initializer {
  const { mean = 0, std = 1 } = opts;
  return (shape, rng) => tf.tensor(rng.normalArray(size(shape), mean, std), [...shape], 'float32');
}

export function uniformInit(opts: { low?: number; high?: number } = {}): Initializer {
  const { low = 0, high = 1 } = opts;
  if (!(high >= low)) throw new RangeError(`uniformInit: high (${high}) must be >= low (${low})`);
  return (shape, rng) => tf.tensor(rng.uniformArray(size(shape), low, high), [...shape], 'float32');
}

/**
 * Kaiming (He) uniform: U(-b, b) with b = gain·sqrt(3 / fan), gain = sqrt(2 / (1 + a²)).
 * The default a = sqrt(5) is PyTorch's nn.Linear default, which gives b = 1/sqrt(fanIn).
 */
export function kaimingUniformInit(opts: { a?: number; mode?: 'fanIn' | 'fanOut' } = {}): Initializer {
  const { a = Math.sqrt(5), mode = 'fanIn' } = opts;
  return (shape, rng) => {
    const f = fans(shape);
    const fan = mode === 'fanIn' ? f.fanIn : f.fanOut;
    const gain = Math.sqrt(2 / (1 + a * a));
    const bound = gain * Math.sqrt(3 / fan);
    return tf.tensor(rng.uniformArray(size(shape), -bound, bound), [...shape], 'float32');
  };
}

export function constantInit(value: number): Initializer {
  return (shape) => tf.fill([...shape], value, 'float32');
}

export const zerosInit: Initializer = (shape) => tf.zeros([...shape], 'float32');
export const onesInit: Initializer = (shape) => tf.ones([...shape], 'float32');
