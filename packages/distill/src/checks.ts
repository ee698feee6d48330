import type * as tf from '@tensorflow/tfjs-core';
import { DistillInputError } from './errors.js';

export const shapeString = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

export function expectRank(t: tf.Tensor, rank: number, argument: string, what: string): void {
  if (t.rank !== rank) throw new DistillInputError(argument, `rank ${rank} ${what}`, `shape ${shapeString(t.shape)}`);
}

export function expectSameShape(a: tf.Tensor, b: tf.Tensor, argument: string, other: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new DistillInputError(argument, `the shape of ${other} ${shapeString(b.shape)}`, shapeString(a.shape));
  }
}

export function expectPositive(x: number, argument: string): void {
  if (!(Number.isFinite(x) && x > 0)) throw new DistillInputError(argument, 'a finite number > 0', String(x));
}

export function expectNonNegative(x: number, argument: string): void {
  if (!(Number.isFinite(x) && x >= 0)) throw new DistillInputError(argument, 'a finite number >= 0', String(x));
}
