// Seeded, forkable random numbers. xoshiro128** (32-bit state words, exact in JS integer arithmetic)
// seeded through splitmix32, so a seed gives the same stream on every platform and backend.
// `fork(label)` derives an independent stream from the seed and the label only, not from how many
// numbers were drawn, so adding a draw in one place does not shift the streams of others.

export interface RngState {
  readonly kind: 'xoshiro128**';
  readonly key: readonly [number, number, number, number];
  readonly s: readonly [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let z = seed >>> 0;
  return () => {
    z = (z + 0x9e3779b9) >>> 0;
    let t = z;
    t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
    t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
    return (t ^ (t >>> 16)) >>> 0;
  };
}

// FNV-1a over the UTF-16 code units of a label, mixed with the parent key.
function hashLabel(key: readonly number[], label: string): number {
  let h = 0x811c9dc5;
  for (const k of key) {
    h = Math.imul(h ^ k, 0x01000193) >>> 0;
  }
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function isWordTuple(v: unknown): v is [number, number, number, number] {
  return Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff);
}

export class Rng {
  private readonly key: [number, number, number, number];
  private s: [number, number, number, number];

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new TypeError(`Rng: seed must be a finite number, got ${seed}`);
    // Fold a seed up to 2^53 into two 32-bit words.
    const lo = seed >>> 0;
    const hi = Math.floor(Math.abs(seed) / 2 ** 32) >>> 0;
    const sm = splitmix32(lo ^ Math.imul(hi, 0x9e3779b1));
    this.key = [sm(), sm(), sm(), sm()];
    if (this.key.every((w) => w === 0)) this.key[0] = 1;
    this.s = [...this.key];
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal (Box-Muller; consumes two uniforms per value). */
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  uniformArray(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    const span = high - low;
    for (let i = 0; i < n; i++) out[i] = low + span * this.next();
    return out;
  }

  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const a = items[i] as T;
      items[i] = items[j] as T;
      items[j] = a;
    }
    return items;
  }

  /** An independent stream determined by this generator's seed and `label`. */
  fork(label: string): Rng {
    const child = Object.create(Rng.prototype) as Rng;
    const sm = splitmix32(hashLabel(this.key, label));
    const key: [number, number, number, number] = [sm(), sm(), sm(), sm()];
    if (key.every((w) => w === 0)) key[0] = 1;
    Object.assign(child, { key, s: [...key] });
    return child;
  }

  /** A JSON-serialisable snapshot; `Rng.fromState(rng.state())` continues the same stream. */
  state(): RngState {
    return { kind: 'xoshiro128**', key: [...this.key], s: [...this.s] };
  }

  static fromState(state: unknown): Rng {
    const st = state as Partial<RngState> | null;
    if (st === null || typeof st !== 'object' || st.kind !== 'xoshiro128**' || !isWordTuple(st.key) || !isWordTuple(st.s)) {
      throw new TypeError("Rng.fromState: expected { kind: 'xoshiro128**', key: [4 uint32], s: [4 uint32] }");
    }
    const rng = Object.create(Rng.prototype) as Rng;
    Object.assign(rng, { key: [...st.key], s: [...st.s] });
    return rng;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
