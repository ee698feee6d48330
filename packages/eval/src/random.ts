// Seeded pseudo-random numbers for the bootstrap. This package has no dependencies (tensor-core's Rng
// would pull in tfjs), so it carries its own small generator: xoshiro128** seeded through splitmix32.
// Streams are derived from (seed, label) so that, e.g., the resampled task indices of a column are the
// same for every method (paired comparisons) whatever order methods are processed in.

/** FNV-1a over the UTF-16 code units of a label: a stable 32-bit stream id. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** @internal xoshiro128** (Blackman & Vigna), 32-bit state words. */
export class BootstrapRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A stream determined by an integer seed and a label (e.g. `tasks:heldout:rougeL`). */
  constructor(seed: number, label = '') {
    // splitmix32 expands (seed, label) into four non-zero state words
    let x = (seed ^ hashLabel(label)) >>> 0;
    x = (x + Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x9e3779b9)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * A uniform integer in [0, n). Multiply-shift on 32 bits: the bias is below n / 2^32 (< 3e-8 for
   * a thousand tasks), far under the bootstrap's own Monte-Carlo error.
   */
  index(n: number): number {
    return Math.floor((this.nextUint32() / 4294967296) * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
