// A small module tree in the PyTorch mould: children and parameters registered by name give HF-style
// dotted names (`encoder.block.0.layer.0.SelfAttention.q.weight`), which are also the checkpoint keys.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.js';

ensureGradients();

export interface StateDictMismatch {
  key: string;
  expected: number[];
  got: number[];
}

/** `loadStateDict` failures, all reported together so one run shows everything that is wrong. */
export class StateDictError extends Error {
  override readonly name = 'StateDictError';
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: StateDictMismatch[],
    context = 'loadStateDict',
  ) {
    super(StateDictError.format(context, missing, unexpected, mismatched));
  }

  private static format(context: string, missing: string[], unexpected: string[], mismatched: StateDictMismatch[]): string {
    const list = (xs: string[]) => (xs.length > 8 ? `${xs.slice(0, 8).join(', ')}, … (${xs.length} in all)` : xs.join(', '));
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing keys: ${list(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected keys: ${list(unexpected)}`);
    if (mismatched.length > 0) {
      parts.push(`shape mismatches: ${list(mismatched.map((m) => `${m.key} (expected [${m.expected.join(', ')}], got [${m.got.join(', ')}])`))}`);
    }
    return `${context}: ${parts.join('; ')}`;
  }
}

const NAME_RE = /^[A-Za-z0-9_]+$/;

export class Module {
  /** Set by `train()` / `eval()`; layers such as dropout read it. */
  training = true;
  private parentModule: Module | undefined;
  private nameInParent = '';
  private readonly children = new Map<string, Module>();
  private readonly params = new Map<string, tf.Variable>();

  /** Dotted path from the root of the tree ('' for the root). */
  get path(): string {
    if (this.parentModule === undefined) return '';
    const p = this.parentModule.path;
    return p === '' ? this.nameInParent : `${p}.${this.nameInParent}`;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name, 'registerModule');
    if (!(m instanceof Module)) throw new TypeError(`registerModule('${name}'): expected a Module`);
    if (m.parentModule !== undefined && m.parentModule !== this) {
      throw new Error(`registerModule('${name}'): module is already registered at '${m.path}'`);
    }
    m.parentModule = this;
    m.nameInParent = name;
    this.children.set(name, m);
    return m;
  }

  /**
   * Wraps `value` in a variable owned by this module (ownership of `value` passes to the module).
   * Passing an existing `tf.Variable` registers that variable itself, which is how weights are tied.
   */
  protected registerParameter(name: string, value: tf.Tensor, opts: { trainable?: boolean } = {}): tf.Variable {
    this.checkName(name, 'registerParameter');
    const trainable = opts.trainable ?? true;
    let v: tf.Variable;
    if (value instanceof tf.Variable) {
      v = value;
      if (opts.trainable !== undefined) v.trainable = trainable;
    } else {
      v = tf.variable(value, trainable);
      value.dispose(); // the variable holds its own reference to the data
    }
    this.params.set(name, v);
    return v;
  }

  private checkName(name: string, fn: string): void {
    if (!NAME_RE.test(name)) throw new RangeError(`${fn}: name must match ${NAME_RE}, got '${name}'`);
    if (this.children.has(name) || this.params.has(name)) {
      throw new Error(`${fn}: '${name}' is already registered on '${this.path || '<root>'}'`);
    }
  }

  /** Child module by (dotted) name relative to this module. */
  getModule(name: string): Module | undefined {
    let m: Module | undefined = this;
    for (const part of name.split('.')) {
      m = m?.children.get(part);
      if (m === undefined) return undefined;
    }
    return m;
  }

  /** This module and every descendant, pre-order, with names relative to this module. */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const walk = (m: Module, prefix: string) => {
      out.push([prefix, m]);
      for (const [n, c] of m.children) walk(c, prefix === '' ? n : `${prefix}.${n}`);
    };
    walk(this, '');
    return out;
  }

  // Every (name, variable) pair including tied aliases, in registration order.
  private allParameters(): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, v] of m.params) out.push([prefix === '' ? n : `${prefix}.${n}`, v]);
    }
    return out;
  }

  /** Parameters with dotted names; a tied variable appears once, under its first name (as PyTorch). */
  namedParameters(): [string, tf.Variable][] {
    const seen = new Set<tf.Variable>();
    return this.allParameters().filter(([, v]) => {
      if (seen.has(v)) return false;
      seen.add(v);
      return true;
    });
  }

  parameters(opts: { trainableOnly?: boolean } = {}): tf.Variable[] {
    const ps = this.namedParameters().map(([, v]) => v);
    return opts.trainableOnly === true ? ps.filter((v) => v.trainable) : ps;
  }

  /**
   * Every parameter by name, tied aliases included (as PyTorch's state_dict). The tensors are the
   * live variables: do not dispose them; clone to keep a snapshot.
   */
  stateDict(): Map<string, tf.Tensor> {
    return new Map<string, tf.Tensor>(this.allParameters());
  }

  /**
   * Copies values into the parameters. Shape mismatches always fail; with `strict` (default) missing
   * and unexpected keys fail too. Nothing is assigned unless the whole map checks out. The caller
   * keeps ownership of the map's tensors.
   */
  loadStateDict(map: ReadonlyMap<string, tf.Tensor>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const own = this.allParameters();
    const ownKeys = new Set(own.map(([k]) => k));
    const missing = own.filter(([k]) => !map.has(k)).map(([k]) => k);
    const unexpected = [...map.keys()].filter((k) => !ownKeys.has(k));
    const mismatched: StateDictMismatch[] = [];
    for (const [k, v] of own) {
      const t = map.get(k);
      if (t !== undefined && !tf.util.arraysEqual(t.shape, v.shape)) mismatched.push({ key: k, expected: [...v.shape], got: [...t.shape] });
    }
    if (mismatched.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0))) {
      throw new StateDictError(missing, unexpected, mismatched);
    }
    for (const [k, v] of own) {
      const t = map.get(k);
      if (t === undefined) continue;
      if (t.dtype === v.dtype) v.assign(t);
      else tf.tidy(() => v.assign(tf.cast(t, v.dtype)));
    }
  }

  /** Freezes (false) or unfreezes (true) every parameter of this subtree. */
  setTrainable(trainable: boolean): void {
    for (const v of this.parameters()) v.trainable = trainable;
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter of this subtree (tied variables once). */
  dispose(): void {
    for (const v of this.parameters()) if (!v.isDisposed) v.dispose();
  }
}

/** An indexed list of modules, named '0', '1', … as PyTorch's nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.push(m);
  }

  push(m: M): M {
    this.items.push(this.registerModule(String(this.items.length), m));
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (m === undefined) throw new RangeError(`ModuleList.at: index ${i} out of range (length ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
