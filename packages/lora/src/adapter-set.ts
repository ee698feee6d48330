// AdapterSet: the one interchange type for LoRA weights in TAGI-TS. It wraps a DeltaMap (module path →
// { A, B, scaling }) that the model's forward takes as `adapters`, and knows the LoraConfig that
// produced it. Teachers (stage 1) create trainable ones; the hypernetwork builds per-example ones from
// generated tensors; peft files load into and save from it.
import * as tf from '@tensorflow/tfjs-core';
import { type DeltaMap, Linear, type LowRankDelta, type Module, Rng } from '@tagi/tensor-core';
import { type LoraConfig, loraConfig, loraScaling } from './config.js';
import { type LinearTarget, linearModules, matchTargets, parsePeftKey, peftKey } from './targets.js';

/** A/B factors with the wrong shape; carries what was expected and what was found. */
export class AdapterShapeError extends Error {
  override readonly name = 'AdapterShapeError';
  constructor(
    readonly where: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${where}: expected ${expected}, found ${found}`);
  }
}

/** A merge into a model that already carries this set's ΔW, or an unmerge of a set that is not merged. */
export class AdapterMergeError extends Error {
  override readonly name = 'AdapterMergeError';
}

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

/** The A/B factors of one module, before the config's scaling is attached. */
export interface LoraFactors {
  A: tf.Tensor;
  B: tf.Tensor;
}

export interface ModuleStats {
  readonly path: string;
  /** Row of a per-example set; undefined for a shared one. */
  readonly example?: number;
  readonly normA: number;
  readonly normB: number;
  /** ‖scaling·B·A‖_F. */
  readonly normDelta: number;
  /** Singular values of scaling·B·A (r of them, descending). */
  readonly singularValues: readonly number[];
  /** exp(entropy of σ/Σσ) (Roy & Vetterli 2007): 1 for rank one, r for a flat spectrum; 0 for ΔW = 0. */
  readonly effectiveRank: number;
  /** Σσ² / σ_max² (0 for ΔW = 0). */
  readonly stableRank: number;
}

function checkFactors(path: string, A: tf.Tensor, B: tf.Tensor, r: number, target?: { inFeatures: number; outFeatures: number }): number | undefined {
  const inF = target?.inFeatures;
  const outF = target?.outFeatures;
  const d = (n: number | undefined, name: string) => (n === undefined ? name : String(n));
  if (A.rank === 2 && B.rank === 2) {
    const ok = A.shape[0] === r && B.shape[1] === r && (inF === undefined || A.shape[1] === inF) && (outF === undefined || B.shape[0] === outF);
    if (!ok) {
      throw new AdapterShapeError(path, `A [${r}, ${d(inF, 'in')}] and B [${d(outF, 'out')}, ${r}]`, `A ${shapeStr(A.shape)}, B ${shapeStr(B.shape)}`);
    }
    return undefined;
  }
  if (A.rank === 3 && B.rank === 3) {
    const batch = A.shape[0];
    const ok =
      B.shape[0] === batch && A.shape[1] === r && B.shape[2] === r && (inF === undefined || A.shape[2] === inF) && (outF === undefined || B.shape[1] === outF);
    if (!ok) {
      throw new AdapterShapeError(
        path,
        `A [${batch}, ${r}, ${d(inF, 'in')}] and B [${batch}, ${d(outF, 'out')}, ${r}]`,
        `A ${shapeStr(A.shape)}, B ${shapeStr(B.shape)}`,
      );
    }
    return batch;
  }
  throw new AdapterShapeError(path, 'A and B both 2-D (shared) or both 3-D (per example)', `A ${shapeStr(A.shape)}, B ${shapeStr(B.shape)}`);
}

export interface CreateOptions {
  /** Seed for A's Kaiming-uniform init (default 0). */
  seed?: number;
  rng?: Rng;
  /** Initialise B with this standard deviation instead of zeros (tests, or non-identity starts). */
  initBStd?: number;
  /** Fail when any list entry of target_modules matches nothing. */
  strictTargets?: boolean;
}

export interface FromTensorsOptions {
  /** Check shapes against this model's Linear modules and that every path is one of them. */
  model?: Module;
}

/**
 * LoRA factors for a set of modules plus their config. Owns its tensors: `dispose()` frees them.
 * Shared sets hold A `[r, in]`, B `[out, r]`; per-example sets A `[batch, r, in]`, B `[batch, out, r]`.
 */
export class AdapterSet {
  readonly scaling: number;
  /** Batch size of a per-example set; undefined when the factors are shared by every row. */
  readonly batch: number | undefined;
  private readonly factors: Map<string, LoraFactors>;
  private disposed = false;
  /** The model whose weights currently include this set's ΔW (see merge / unmerge). */
  private mergedInto: Module | undefined;
  /** The weights before a restorable merge, by module path. */
  private originals: Map<string, tf.Tensor> | undefined;

  private constructor(
    readonly config: LoraConfig,
    factors: Map<string, LoraFactors>,
    batch: number | undefined,
  ) {
    this.factors = factors;
    this.scaling = loraScaling(config);
    this.batch = batch;
  }

  /**
   * A fresh trainable adapter for `model` as peft initialises one: A Kaiming-uniform
   * (U(±1/sqrt(in)), PyTorch's default for Linear), B zero, so the adapted model starts as the base.
   * Modules are chosen by `config.targetModules` (null = T5's q, v).
   */
  static create(model: Module, config: LoraConfig = loraConfig(), opts: CreateOptions = {}): AdapterSet {
    const targets = matchTargets(model, config.targetModules, { strict: opts.strictTargets });
    const rng = opts.rng ?? new Rng(opts.seed ?? 0);
    const r = config.r;
    const factors = new Map<string, LoraFactors>();
    for (const t of targets) {
      const bound = 1 / Math.sqrt(t.inFeatures);
      const a = tf.tensor2d(rng.uniformArray(r * t.inFeatures, -bound, bound), [r, t.inFeatures]);
      const b =
        opts.initBStd === undefined ? tf.zeros([t.outFeatures, r]) : tf.tensor2d(rng.normalArray(t.outFeatures * r, 0, opts.initBStd), [t.outFeatures, r]);
      factors.set(t.path, { A: tf.variable(a, true), B: tf.variable(b, true) });
      a.dispose();
      b.dispose();
    }
    return new AdapterSet(config, factors, undefined);
  }

  /**
   * Wraps existing factors (e.g. generated by the hypernetwork, shared or per example). The set takes
   * ownership of the tensors. Gradients flow through them: nothing is copied.
   */
  static fromTensors(config: LoraConfig, factors: ReadonlyMap<string, LoraFactors> | Record<string, LoraFactors>, opts: FromTensorsOptions = {}): AdapterSet {
    const entries = factors instanceof Map ? [...factors.entries()] : Object.entries(factors as Record<string, LoraFactors>);
    const byPath = new Map<string, LinearTarget>();
    if (opts.model !== undefined) for (const l of linearModules(opts.model)) byPath.set(l.path, l);
    let batch: number | undefined;
    const map = new Map<string, LoraFactors>();
    entries.forEach(([path, f], i) => {
      let target: LinearTarget | undefined;
      if (opts.model !== undefined) {
        target = byPath.get(path);
        if (target === undefined) throw new AdapterShapeError(path, 'the path of a Linear module of the model', 'no such module');
      }
      const b = checkFactors(path, f.A, f.B, config.r, target);
      if (i === 0) batch = b;
      else if (b !== batch) {
        throw new AdapterShapeError(
          path,
          batch === undefined ? 'shared factors like the other modules' : `per-example factors with batch ${batch}`,
          b === undefined ? 'shared factors' : `batch ${b}`,
        );
      }
      map.set(path, { A: f.A, B: f.B });
    });
    return new AdapterSet(config, map, batch);
  }

  /**
   * Builds a shared set from peft tensors (keys `base_model.model.<path>.lora_A.weight`, …). Every
   * module needs both factors; keys that are not LoRA factors are rejected. Takes ownership.
   */
  static fromPeftTensors(config: LoraConfig, tensors: ReadonlyMap<string, tf.Tensor>, opts: FromTensorsOptions = {}): AdapterSet {
    const partial = new Map<string, Partial<LoraFactors>>();
    const problems: string[] = [];
    for (const [key, t] of tensors) {
      const k = parsePeftKey(key);
      if (k === undefined) {
        problems.push(`${key}: not a LoRA factor key (expected base_model.model.<module>.lora_A.weight / .lora_B.weight)`);
        continue;
      }
      const f = partial.get(k.path) ?? {};
      f[k.factor] = t;
      partial.set(k.path, f);
    }
    const full = new Map<string, LoraFactors>();
    for (const [path, f] of partial) {
      if (f.A === undefined || f.B === undefined) problems.push(`${peftKey(path, f.A === undefined ? 'A' : 'B')}: missing (the other factor is present)`);
      else full.set(path, { A: f.A, B: f.B });
    }
    if (problems.length > 0) throw new AdapterShapeError('adapter tensors', 'matching lora_A / lora_B pairs', problems.join('; '));
    const sorted = new Map([...full.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return AdapterSet.fromTensors(config, sorted, opts);
  }

  private live(): void {
    if (this.disposed) throw new Error('AdapterSet: used after dispose()');
  }

  /** Module paths that carry an adapter. */
  get paths(): string[] {
    return [...this.factors.keys()];
  }

  get size(): number {
    return this.factors.size;
  }

  factorsOf(path: string): LoraFactors | undefined {
    return this.factors.get(path);
  }

  /** The DeltaMap to pass as the model's `adapters` (views of this set's tensors: do not dispose). */
  get deltas(): DeltaMap {
    this.live();
    const m = new Map<string, LowRankDelta>();
    for (const [p, f] of this.factors) m.set(p, { A: f.A, B: f.B, scaling: this.scaling });
    return m;
  }

  /**
   * Deltas for a forward pass with LoRA dropout. In eval mode (or with `lora_dropout` 0) this is
   * `deltas`. In training, the DeltaMap contract has no place for peft's per-token dropout on the
   * adapter input, so the mask is applied to A's input columns per example (A becomes per-example
   * `[batch, r, in]`, rescaled by 1/(1-p)): the same inverted-dropout expectation, but one mask per
   * example and module instead of one per token. The returned A tensors are new (dispose them, or
   * call inside tf.tidy / a gradient function).
   */
  deltasForForward(training: boolean, batch: number, rng: Rng): DeltaMap {
    this.live();
    const p = this.config.loraDropout;
    if (!training || p === 0) return this.deltas;
    const keep = 1 - p;
    const m = new Map<string, LowRankDelta>();
    const call = rng.fork(`dropout-${rng.nextUint32()}`); // advances `rng`: each call draws new masks
    for (const [path, f] of this.factors) {
      const inF = f.A.shape[f.A.rank - 1] as number;
      const mask = new Float32Array(batch * inF);
      const r = call.fork(path); // per module, so the masks do not depend on the order of the set
      for (let i = 0; i < mask.length; i++) mask[i] = r.next() < keep ? 1 / keep : 0;
      const A = tf.tidy(() => {
        const maskT = tf.tensor3d(mask, [batch, 1, inF]);
        const a3 = f.A.rank === 2 ? tf.expandDims(f.A, 0) : f.A; // [1|batch, r, in]
        return tf.mul(a3, maskT); // [batch, r, in]
      });
      const B = f.B.rank === 2 ? tf.tidy(() => tf.tile(tf.expandDims(f.B, 0), [batch, 1, 1])) : f.B; // [batch, out, r]
      m.set(path, { A, B, scaling: this.scaling });
    }
    return m;
  }

  /** Trainable variables keyed by peft name (only for sets made by `create` or loaded as trainable). */
  namedVariables(): Map<string, tf.Variable> {
    this.live();
    const out = new Map<string, tf.Variable>();
    for (const [p, f] of this.factors) {
      if (!(f.A instanceof tf.Variable) || !(f.B instanceof tf.Variable)) {
        throw new TypeError(`AdapterSet.namedVariables: factors of '${p}' are plain tensors; use AdapterSet.create or .toTrainable()`);
      }
      out.set(peftKey(p, 'A'), f.A);
      out.set(peftKey(p, 'B'), f.B);
    }
    return out;
  }

  /** A copy whose factors are fresh trainable variables (e.g. to continue training a loaded adapter). */
  toTrainable(): AdapterSet {
    this.live();
    const map = new Map<string, LoraFactors>();
    for (const [p, f] of this.factors) map.set(p, { A: tf.variable(f.A, true), B: tf.variable(f.B, true) });
    return new AdapterSet(this.config, map, this.batch);
  }

  /** Copies of the factors under peft key names (the caller owns them), for saving. */
  toPeftTensors(): Map<string, tf.Tensor> {
    this.live();
    if (this.batch !== undefined) throw new TypeError('AdapterSet.toPeftTensors: a per-example set has no single peft adapter; select one example first');
    const out = new Map<string, tf.Tensor>();
    for (const [p, f] of this.factors) {
      out.set(peftKey(p, 'A'), tf.clone(f.A));
      out.set(peftKey(p, 'B'), tf.clone(f.B));
    }
    return out;
  }

  /** Row `i` of a per-example set as a shared set (copies). */
  example(i: number): AdapterSet {
    this.live();
    if (this.batch === undefined) throw new TypeError('AdapterSet.example: the set is shared, not per example');
    if (!Number.isInteger(i) || i < 0 || i >= this.batch) throw new RangeError(`AdapterSet.example: index ${i} out of range [0, ${this.batch})`);
    const map = new Map<string, LoraFactors>();
    for (const [p, f] of this.factors) {
      map.set(p, {
        A: tf.tidy(() => tf.squeeze(tf.slice(f.A, [i, 0, 0], [1, -1, -1]), [0])),
        B: tf.tidy(() => tf.squeeze(tf.slice(f.B, [i, 0, 0], [1, -1, -1]), [0])),
      });
    }
    return new AdapterSet(this.config, map, undefined);
  }

  /** A copy with ΔW multiplied by `factor` (B scaled; A and the config unchanged). */
  scale(factor: number): AdapterSet {
    this.live();
    if (!Number.isFinite(factor)) throw new RangeError(`AdapterSet.scale: factor must be finite, got ${factor}`);
    const map = new Map<string, LoraFactors>();
    for (const [p, f] of this.factors) map.set(p, { A: tf.clone(f.A), B: tf.tidy(() => tf.mul(f.B, factor)) });
    return new AdapterSet(this.config, map, this.batch);
  }

  /**
   * The sum of two adapters (ΔW = ΔW₁ + ΔW₂ on every module either carries) as one exact LoRA of rank
   * r₁ + r₂: A = [A₁; A₂], B = [s₁·B₁, s₂·B₂] with scaling 1 (lora_alpha = r, rsLoRA off). A module
   * present in one set only gets zero factors from the other.
   */
  add(other: AdapterSet): AdapterSet {
    this.live();
    other.live();
    if (this.batch !== other.batch) throw new TypeError(`AdapterSet.add: batch ${String(this.batch)} vs ${String(other.batch)}`);
    const r = this.config.r + other.config.r;
    const pe = this.batch !== undefined;
    const paths = [...new Set([...this.paths, ...other.paths])];
    const map = new Map<string, LoraFactors>();
    for (const p of paths) {
      const f1 = this.factors.get(p);
      const f2 = other.factors.get(p);
      const ref = (f1 ?? f2) as LoraFactors;
      const inF = ref.A.shape[ref.A.rank - 1] as number;
      const outF = ref.B.shape[ref.B.rank - 2] as number;
      const lead = pe ? [this.batch as number] : [];
      const parts = (f: LoraFactors | undefined, rank: number, s: number) =>
        f === undefined ? { A: tf.zeros([...lead, rank, inF]), B: tf.zeros([...lead, outF, rank]) } : { A: f.A, B: tf.mul(f.B, s) };
      const A = tf.tidy(() => {
        const a = parts(f1, this.config.r, this.scaling);
        const b = parts(f2, other.config.r, other.scaling);
        return tf.concat([a.A, b.A], pe ? 1 : 0);
      });
      const B = tf.tidy(() => {
        const a = parts(f1, this.config.r, this.scaling);
        const b = parts(f2, other.config.r, other.scaling);
        return tf.concat([a.B, b.B], pe ? 2 : 1);
      });
      map.set(p, { A, B });
    }
    const targets = [
      ...new Set([
        ...(Array.isArray(this.config.targetModules) ? this.config.targetModules : []),
        ...(Array.isArray(other.config.targetModules) ? other.config.targetModules : []),
      ]),
    ];
    const config = loraConfig({
      ...this.config,
      r,
      loraAlpha: r,
      useRslora: false,
      targetModules: targets.length > 0 ? targets : this.config.targetModules,
      extra: { ...this.config.extra },
    });
    return new AdapterSet(config, map, this.batch);
  }

  private linearsOf(model: Module, fn: string): Map<string, Linear> {
    this.live();
    if (this.batch !== undefined) throw new TypeError(`AdapterSet.${fn}: per-example adapters cannot be merged into shared weights`);
    const out = new Map<string, Linear>();
    for (const p of this.paths) {
      const m = model.getModule(p);
      if (!(m instanceof Linear)) throw new AdapterShapeError(p, 'a Linear module of the model', m === undefined ? 'no such module' : m.constructor.name);
      const f = this.factors.get(p) as LoraFactors;
      checkFactors(p, f.A, f.B, this.config.r, m);
      out.set(p, m);
    }
    return out;
  }

  /** scaling·B·A for a shared module, `[out, in]`. */
  deltaWeight(path: string): tf.Tensor2D {
    this.live();
    const f = this.factors.get(path);
    if (f === undefined) throw new RangeError(`AdapterSet.deltaWeight: no adapter on '${path}'`);
    if (f.A.rank !== 2) throw new TypeError('AdapterSet.deltaWeight: per-example set; select an example first');
    return tf.tidy(() => tf.mul(tf.matMul(f.B, f.A), this.scaling)) as tf.Tensor2D; // [out, in]
  }

  /**
   * W ← W + scaling·B·A in every adapted Linear (peft's merge). Afterwards run the model WITHOUT
   * `adapters`. Undo with {@link unmerge}; the round trip is exact up to float32 rounding of the
   * add-then-subtract (|error| ≤ ~1 ulp of max(|W|, |ΔW|) per element), not bit-exact — unless
   * `restorable` is set: then the original weights are kept (one copy of each adapted weight) and
   * `unmerge` puts them back bit for bit, so serving many adapters in turn never drifts the base.
   */
  merge(model: Module, opts: { restorable?: boolean } = {}): void {
    if (this.mergedInto !== undefined) {
      throw new AdapterMergeError(
        `AdapterSet.merge: already merged into ${this.mergedInto === model ? 'this model' : 'another model'}; merging again would add ΔW twice (unmerge first)`,
      );
    }
    const linears = this.linearsOf(model, 'merge'); // every path and shape checked before any weight changes
    this.originals = opts.restorable === true ? new Map([...linears].map(([p, m]) => [p, tf.clone(m.weight)])) : undefined;
    for (const [p, m] of linears) tf.tidy(() => m.weight.assign(tf.add(m.weight, this.deltaWeight(p))));
    this.mergedInto = model;
  }

  /** W ← W − scaling·B·A (or, after a restorable merge, the original W): the inverse of {@link merge}, only on the model the set was merged into. */
  unmerge(model: Module): void {
    if (this.mergedInto !== model) {
      throw new AdapterMergeError(
        `AdapterSet.unmerge: ${this.mergedInto === undefined ? 'the set is not merged' : 'the set is merged into another model'}; unmerging would subtract a ΔW that was never added`,
      );
    }
    const linears = this.linearsOf(model, 'unmerge');
    const originals = this.originals;
    for (const [p, m] of linears) {
      const w = originals?.get(p);
      if (w !== undefined) m.weight.assign(w);
      else tf.tidy(() => m.weight.assign(tf.sub(m.weight, this.deltaWeight(p))));
    }
    if (originals !== undefined) tf.dispose([...originals.values()]);
    this.originals = undefined;
    this.mergedInto = undefined;
  }

  /** True while this set's ΔW is merged into a model's weights. */
  get isMerged(): boolean {
    return this.mergedInto !== undefined;
  }

  /** Norms and spectra of every module's ΔW (per example for a per-example set). Computed in float64 JS. */
  stats(): ModuleStats[] {
    this.live();
    const out: ModuleStats[] = [];
    for (const [path, f] of this.factors) {
      const a = f.A.dataSync() as Float32Array;
      const b = f.B.dataSync() as Float32Array;
      const r = this.config.r;
      const inF = f.A.shape[f.A.rank - 1] as number;
      const outF = f.B.shape[f.B.rank - 2] as number;
      const rows = this.batch ?? 1;
      for (let e = 0; e < rows; e++) {
        const ae = a.subarray(e * r * inF, (e + 1) * r * inF);
        const be = b.subarray(e * outF * r, (e + 1) * outF * r);
        const s = lowRankStats(ae, be, r, inF, outF, this.scaling);
        out.push(this.batch === undefined ? { path, ...s } : { path, example: e, ...s });
      }
    }
    return out;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees every factor tensor (idempotent). */
  dispose(): void {
    if (this.disposed) return;
    if (this.originals !== undefined) tf.dispose([...this.originals.values()]); // a restorable merge never undone: the model keeps ΔW
    this.originals = undefined;
    for (const f of this.factors.values()) {
      if (!f.A.isDisposed) f.A.dispose();
      if (!f.B.isDisposed) f.B.dispose();
    }
    this.disposed = true;
  }
}

// ---- spectra of ΔW = s·B·A via r×r eigenproblems ----

/** Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen(m: Float64Array | number[], n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += (a[i * n + j] as number) ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (Math.abs(apq) < 1e-300) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i] as number;
  return { values, vectors: v };
}

/**
 * Singular values of s·B·A (B `[out, r]`, A `[r, in]`, row-major) without forming it:
 * with G = A·Aᵀ = V·Λ·Vᵀ and G½ = V·Λ½·Vᵀ, the nonzero σ² are the eigenvalues of G½·(BᵀB)·G½ (r×r).
 */
export function lowRankSingularValues(a: ArrayLike<number>, b: ArrayLike<number>, r: number, inF: number, outF: number, s = 1): number[] {
  const g = new Float64Array(r * r);
  const h = new Float64Array(r * r);
  for (let i = 0; i < r; i++) {
    for (let j = i; j < r; j++) {
      let sg = 0;
      for (let k = 0; k < inF; k++) sg += (a[i * inF + k] as number) * (a[j * inF + k] as number);
      let sh = 0;
      for (let k = 0; k < outF; k++) sh += (b[k * r + i] as number) * (b[k * r + j] as number);
      g[i * r + j] = g[j * r + i] = sg;
      h[i * r + j] = h[j * r + i] = sh;
    }
  }
  const { values, vectors } = symmetricEigen(g, r);
  const half = new Float64Array(r * r); // G½
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += (vectors[i * r + k] as number) * Math.sqrt(Math.max(0, values[k] as number)) * (vectors[j * r + k] as number);
      half[i * r + j] = acc;
    }
  }
  const tmp = new Float64Array(r * r);
  const m = new Float64Array(r * r);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += (half[i * r + k] as number) * (h[k * r + j] as number);
      tmp[i * r + j] = acc;
    }
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += (tmp[i * r + k] as number) * (half[k * r + j] as number);
      m[i * r + j] = acc;
    }
  for (let i = 0; i < r; i++) for (let j = i + 1; j < r; j++) m[i * r + j] = m[j * r + i] = ((m[i * r + j] as number) + (m[j * r + i] as number)) / 2;
  const ev = symmetricEigen(m, r).values;
  return [...ev].map((x) => Math.abs(s) * Math.sqrt(Math.max(0, x))).sort((x, y) => y - x);
}

function frob(x: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += (x[i] as number) ** 2;
  return Math.sqrt(acc);
}

function lowRankStats(a: ArrayLike<number>, b: ArrayLike<number>, r: number, inF: number, outF: number, s: number): Omit<ModuleStats, 'path' | 'example'> {
  const sv = lowRankSingularValues(a, b, r, inF, outF, s);
  const sum = sv.reduce((x, y) => x + y, 0);
  const sumSq = sv.reduce((x, y) => x + y * y, 0);
  const max = sv[0] ?? 0;
  let effectiveRank = 0;
  if (sum > 0) {
    let h = 0;
    for (const x of sv) if (x > 0) h -= (x / sum) * Math.log(x / sum);
    effectiveRank = Math.exp(h);
  }
  return {
    normA: frob(a),
    normB: frob(b),
    normDelta: Math.sqrt(sumSq),
    singularValues: sv,
    effectiveRank,
    stableRank: max > 0 ? sumSq / (max * max) : 0,
  };
}
