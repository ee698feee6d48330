// One phase of `bench/t5.ts` on our side: a fresh process that builds the bench model on one backend, runs one
// row (a warm-up, then `--runs` timed runs of each variant), prints a JSON PhaseResult as its last stdout line
// and exits, so nothing of ours (thread pools, memory) is alive while the PyTorch peer runs. Not run by hand
// except to look at one row:
//
//   npx tsx bench/t5-side.ts --backend tensorflow --row train [--shape small] [--runs 1] [--profile]
// Env: TAGI_BENCH_MICRO (training micro-batch; default: whole batch, 2 on wasm at the t5-small shape).
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, leanVariableGrads, type LowRankDelta } from '@tagi/tensor-core';
import { useBackend, type TestBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config, type T5ForConditionalGeneration } from '../src/index.js';
import { flag, RANK, ROWS, SHAPES, str, type PhaseResult, type PhaseVariant, type Row, type ShapeName } from './shapes.js';

const shapeName = str('shape', 't5-small-lm-adapt') as ShapeName;
const shape = SHAPES[shapeName];
if (!shape) throw new Error(`--shape: expected one of ${Object.keys(SHAPES).join(', ')}, got '${shapeName}'`);
const BACKEND = str('backend', 'tensorflow') as TestBackend;
const ROW = str('row', 'forward') as Row;
if (!ROWS.includes(ROW)) throw new Error(`--row: unknown row '${ROW}' (${ROWS.join(', ')})`);
const RUNS = Number(str('runs', '1'));
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs: expected an integer >= 1, got '${str('runs', '')}'`);
const PROFILE = flag('profile') !== undefined;

const config = makeT5Config({
  vocabSize: shape.vocab,
  dModel: shape.dModel,
  dKv: shape.dKv,
  numHeads: shape.numHeads,
  dFf: shape.dFf,
  numLayers: shape.layers,
  numDecoderLayers: shape.layers,
  feedForwardProj: 'gated-gelu',
  tieWordEmbeddings: false,
  dropoutRate: 0,
});

// ---------------------------------------------------------------------------------------------
// our side

function randomIds(rows: number, cols: number, seed: number): number[][] {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648), s);
  return Array.from({ length: rows }, () => [...Array.from({ length: cols - 1 }, () => 3 + (next() % 32000)), 1]);
}

interface Ours {
  forward(): void;
  train(): void;
  gen(newTokens: number, useCache: boolean): Promise<void>;
  micro: number;
  dispose(): void;
}

function setUp(backend: TestBackend): Ours {
  const model: T5ForConditionalGeneration = createRandomT5(config, 0).eval();
  model.freezeBase(); // the TAGI setting: the base is frozen, only low-rank deltas train
  if (ROW === 'train-recompute') model.setRecomputeBlocks(true);
  const inputIds = tf.tensor2d(randomIds(shape.batch, shape.src, 1), undefined, 'int32');
  const attentionMask = tf.onesLike(inputIds) as tf.Tensor2D;
  const labels = tf.tensor2d(randomIds(shape.batch, shape.tgt, 2), undefined, 'int32');
  // peft-style rank-8 deltas on q and v of every attention module (B starts at zero as in LoRA)
  const inner = config.numHeads * config.dKv;
  const named: [string, tf.Variable][] = [];
  const adapters = new Map<string, LowRankDelta>();
  for (const [p] of model.namedModules()) {
    if (!/(SelfAttention|EncDecAttention)\.(q|v)$/.test(p)) continue;
    const A = tf.variable(tf.randomNormal([RANK, config.dModel], 0, 0.02));
    const B = tf.variable(tf.zeros([inner, RANK]));
    named.push([`${p}.lora_A`, A], [`${p}.lora_B`, B]);
    adapters.set(p, { A, B, scaling: 16 / RANK });
  }
  const opt = new AdamW(named, { lr: 1e-4 });
  // One optimizer step over the whole batch. On wasm the tape of a t5-small batch of 8 does not fit wasm32's
  // 4 GB heap (measured: it aborts in the allocator), so the step accumulates gradients over micro-batches
  // (same tokens, same update).
  const micro = Number(process.env['TAGI_BENCH_MICRO'] ?? (backend === 'wasm' && shapeName === 't5-small-lm-adapt' ? 2 : shape.batch));
  const slices = Array.from({ length: shape.batch / micro }, (_, i) => ({
    inputIds: tf.slice(inputIds, [i * micro, 0], [micro, shape.src]) as tf.Tensor2D,
    attentionMask: tf.slice(attentionMask, [i * micro, 0], [micro, shape.src]) as tf.Tensor2D,
    labels: tf.slice(labels, [i * micro, 0], [micro, shape.tgt]) as tf.Tensor2D,
  }));
  const vars = named.map(([, v]) => v);
  return {
    micro,
    forward() {
      tf.tidy(() => model.forward({ inputIds, attentionMask, labels }).loss!.dataSync());
    },
    train() {
      let acc: tf.Tensor[] | undefined;
      for (const sl of slices) {
        const { value, grads } = leanVariableGrads(() => model.forward({ ...sl, adapters }).loss!, vars); // as fit differentiates
        value.dispose();
        const g = vars.map((v) => grads[v.name] as tf.Tensor);
        if (!acc) acc = g;
        else {
          const sum = acc.map((a, i) => tf.add(a, g[i] as tf.Tensor));
          tf.dispose([...acc, ...g]);
          acc = sum;
        }
      }
      const grads = new Map(named.map(([n], i) => [n, slices.length === 1 ? (acc![i] as tf.Tensor) : tf.div(acc![i] as tf.Tensor, slices.length)]));
      opt.step(grads);
      tf.dispose([...acc!, ...grads.values()]);
      // the step is done when its result is on the host (tfjs-node runs eagerly; this makes it explicit)
      (vars[vars.length - 1] as tf.Variable).dataSync();
    },
    async gen(newTokens, useCache) {
      // eos -1: no row finishes early, every row makes exactly newTokens tokens
      await model.generate(inputIds, attentionMask, { maxNewTokens: newTokens, eosTokenId: -1, useCache });
    },
    dispose() {
      for (const sl of slices) tf.dispose([sl.inputIds, sl.attentionMask, sl.labels]);
      opt.dispose();
      tf.dispose([inputIds, attentionMask, labels, ...vars]);
      model.dispose();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// --profile: where the time of a forward pass and of one cached decoding step goes, kernel by kernel
// (tf.profile's per-kernel times; profiling adds overhead, so read them as shares, not as speeds)

interface KernelRow {
  kernel: string;
  count: number;
  ms: number;
  /** BatchMatMul only: achieved GFLOP/s over its calls. */
  gflops?: number;
}
interface Profile {
  /** wallMs: the same work timed without the profiler. */
  forward: { kernels: number; ms: number; wallMs: number; top: KernelRow[] };
  decodeStep: { kernels: number; ms: number; wallMs: number; top: KernelRow[] };
}

function groupKernels(kernels: { name: string; kernelTimeMs: unknown; inputShapes: unknown[] }[]): Map<string, { count: number; ms: number; flop: number }> {
  const m = new Map<string, { count: number; ms: number; flop: number }>();
  for (const k of kernels) {
    if (k.name === 'unnamed scope' || k.name.endsWith('__op')) continue; // scopes nest kernels that are listed themselves
    const e = m.get(k.name) ?? { count: 0, ms: 0, flop: 0 };
    e.count++;
    e.ms += Number(k.kernelTimeMs) || 0;
    if (k.name === 'BatchMatMul') {
      const [a, b] = k.inputShapes as number[][];
      // 2·m·k·n = 2·|a|·n; the product's flags are not recorded, so n is b's dimension that a does not share
      // (b's last unless it equals a's last, i.e. b is used transposed)
      if (a && b) e.flop += 2 * a.reduce((x, y) => x * y, 1) * ((b.at(-1) === a.at(-1) ? b.at(-2) : b.at(-1)) as number);
    }
    m.set(k.name, e);
  }
  return m;
}

function topRows(m: Map<string, { count: number; ms: number; flop: number }>, scale = 1): KernelRow[] {
  return [...m]
    .map(([kernel, e]) => ({ kernel, count: e.count / scale, ms: e.ms / scale, ...(e.flop ? { gflops: e.flop / 1e9 / (e.ms / 1e3) } : {}) }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 10);
}

async function profile(ours: Ours): Promise<Profile> {
  const f = await tf.profile(() => ours.forward());
  const fwd = groupKernels(f.kernels as never);
  // one cached step = (9 new tokens − 1 new token) / 8: the encoder and set-up cancel
  const [short, long] = [1, 9];
  const walls: number[] = [];
  for (let r = 0; r < 3; r++) walls.push(((await seconds(() => ours.gen(long, true))) - (await seconds(() => ours.gen(short, true)))) / (long - short));
  const a = groupKernels((await tf.profile(async () => ours.gen(short, true))).kernels as never);
  const b = groupKernels((await tf.profile(async () => ours.gen(long, true))).kernels as never);
  const step = new Map(
    [...b].map(([k, e]) => {
      const s0 = a.get(k) ?? { count: 0, ms: 0, flop: 0 };
      return [k, { count: e.count - s0.count, ms: e.ms - s0.ms, flop: e.flop - s0.flop }] as const;
    }),
  );
  const n = long - short;
  const total = (m: Map<string, { count: number; ms: number }>, scale = 1) => ({
    kernels: [...m.values()].reduce((x, e) => x + e.count, 0) / scale,
    ms: [...m.values()].reduce((x, e) => x + e.ms, 0) / scale,
  });
  return {
    forward: { ...total(fwd), wallMs: 1e3 * (await seconds(() => ours.forward())), top: topRows(fwd) },
    decodeStep: { ...total(step, n), wallMs: 1e3 * median(walls), top: topRows(step, n) },
  };
}

function printProfile(p: Profile): void {
  for (const [what, part] of [
    ['forward', p.forward],
    ['one cached decoding step', p.decodeStep],
  ] as const) {
    console.log(
      `  profile, ${what}: ${Math.round(part.kernels)} kernels, ${part.ms.toFixed(1)} ms of kernel time under the profiler; ${part.wallMs.toFixed(1)} ms wall without it`,
    );
    for (const r of part.top) {
      const g = r.gflops !== undefined ? `  ${r.gflops.toFixed(1)} GFLOP/s` : '';
      console.log(
        `    ${r.kernel.padEnd(18)} ${String(Math.round(r.count)).padStart(6)} calls ${r.ms.toFixed(1).padStart(9)} ms ${((100 * r.ms) / part.ms).toFixed(0).padStart(4)}%${g}`,
      );
    }
  }
}

async function seconds(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

// ---------------------------------------------------------------------------------------------
// main: one row, then the result line

await useBackend(BACKEND);
const ours = setUp(BACKEND);
const fwdTokens = shape.batch * (shape.src + shape.tgt);
interface Variant {
  label: string;
  tokens: number;
  run: () => Promise<void> | void;
  /** A shorter run that sets up the same kernels (generation: 2 new tokens); default: the run itself. */
  warm?: () => Promise<void> | void;
}
const n = ROW === 'gen16' ? 16 : 64;
const variants: Variant[] =
  ROW === 'forward'
    ? [{ label: 'forward', tokens: fwdTokens, run: () => ours.forward() }]
    : ROW === 'train' || ROW === 'train-recompute'
      ? [{ label: ROW === 'train' ? 'LoRA train step' : 'LoRA step, recomputed', tokens: fwdTokens, run: () => ours.train() }]
      : [
          // warm-ups of 2 new tokens set up every kernel (a 64-token no-cache run on wasm takes minutes)
          { label: `generate ${n}, cache`, tokens: shape.batch * n, run: () => ours.gen(n, true), warm: () => ours.gen(2, true) },
          { label: `generate ${n}, no cache`, tokens: shape.batch * n, run: () => ours.gen(n, false), warm: () => ours.gen(2, false) },
        ];
const measured: PhaseVariant[] = variants.map((v) => ({ label: v.label, tokens: v.tokens, seconds: [] }));
for (const v of variants) await (v.warm ?? v.run)();
for (let r = 0; r < RUNS; r++) for (const [i, v] of variants.entries()) measured[i]!.seconds.push(await seconds(v.run));
let tensorPeakMB: number | undefined;
if (ROW === 'train' || ROW === 'train-recompute') {
  // tfjs's own account of the step: the most tensor bytes alive at once (after the timed runs, so the
  // profiler's bookkeeping costs no time there)
  const info = await tf.profile(() => ours.train());
  tensorPeakMB = Math.round(info.peakBytes / 2 ** 20);
}
const prof = PROFILE ? await profile(ours) : undefined;
const result: PhaseResult = {
  variants: measured,
  peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  ...(tensorPeakMB !== undefined ? { tensorPeakMB, micro: ours.micro } : {}),
  ...(prof ? { profile: prof } : {}),
};
if (prof) printProfile(prof);
console.log(JSON.stringify(result));
// --hold (bench/t5.ts --interference): stay alive and idle, model and all, until stdin closes
if (flag('hold') !== undefined) {
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
}
ours.dispose();
