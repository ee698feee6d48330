// `pnpm bench`: a T5 with random weights on each available backend, against the same model in PyTorch +
// transformers + peft (bench/pytorch_peer.py) when that stack is importable. Rows: forward, a LoRA training
// step (frozen base, rank-8 deltas on q and v, AdamW), and greedy generation with and without the KV cache at
// 16 and 64 new tokens. Repetitions are interleaved (ours, PyTorch, ours, PyTorch, …; cache and no-cache
// alternate too), so both sides see the same machine load; each row prints the median and the spread
// (min–max) of tokens/s, the per-repetition ratio ours/PyTorch, and the load average around it.
//
//   npx tsx bench/t5.ts [--shape t5-small-lm-adapt|small] [--backends tensorflow,wasm] [--reps 3]
//                       [--rows forward,train,gen16,gen64] [--no-peer] [--json [FILE]] [--profile]
// Env: TAGI_BENCH_PYTHON (a python with torch, transformers and peft; default /work/venv/bin/python if it
// exists, else python3), TAGI_BENCH_MICRO (training micro-batch; default: whole batch, 2 on wasm).
//
// Shapes: `t5-small-lm-adapt` (default; d_model 512, 8+8 layers, 6 heads, d_kv 64, d_ff 1024, gated-gelu,
// vocab 32,128; batch 8, 256 input / 64 target tokens) and `small` (d_model 128, 2+2 layers; batch 4,
// 64 / 16 tokens) for quick runs. Tokens/s counts batch × (input + target) for forward and training and
// generated tokens for generation (encoding included, every row makes exactly N tokens).
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, type LowRankDelta } from '@tagi/tensor-core';
import { useBackend, type TestBackend } from '@tagi/tensor-core/testing';
import { createRandomT5, makeT5Config, type T5ForConditionalGeneration } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// options

function flag(name: string): string | true | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const next = process.argv[i + 1];
  return next === undefined || next.startsWith('--') ? true : next;
}
const str = (name: string, def: string): string => {
  const v = flag(name);
  return typeof v === 'string' ? v : def;
};

const SHAPES = {
  't5-small-lm-adapt': { dModel: 512, dKv: 64, numHeads: 6, dFf: 1024, layers: 8, vocab: 32128, batch: 8, src: 256, tgt: 64 },
  small: { dModel: 128, dKv: 32, numHeads: 4, dFf: 256, layers: 2, vocab: 32128, batch: 4, src: 64, tgt: 16 },
} as const;
type ShapeName = keyof typeof SHAPES;
const shapeName = str('shape', 't5-small-lm-adapt') as ShapeName;
const shape = SHAPES[shapeName];
if (!shape) throw new Error(`--shape: expected one of ${Object.keys(SHAPES).join(', ')}, got '${shapeName}'`);
const REPS = Number(str('reps', '3'));
if (!Number.isInteger(REPS) || REPS < 1) throw new Error(`--reps: expected an integer >= 1, got '${str('reps', '')}'`);
const ROWS = str('rows', 'forward,train,gen16,gen64').split(',').map((s) => s.trim());
for (const r of ROWS) if (!['forward', 'train', 'gen16', 'gen64'].includes(r)) throw new Error(`--rows: unknown row '${r}' (forward, train, gen16, gen64)`);
const BACKENDS = str('backends', 'tensorflow,wasm').split(',').map((s) => s.trim()) as TestBackend[];
const jsonFlag = flag('json');
const PROFILE = flag('profile') !== undefined;
const RANK = 8;

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
// the PyTorch peer (a long-lived process, so repetitions interleave without reloading)

interface Peer {
  run(req: Record<string, unknown>): Promise<number>;
  info: { threads: number; versions: string };
  close(): void;
}

function defaultPython(): string {
  return process.env['TAGI_BENCH_PYTHON'] ?? (fs.existsSync('/work/venv/bin/python') ? '/work/venv/bin/python' : 'python3');
}

async function startPeer(): Promise<Peer | string> {
  const py = defaultPython();
  try {
    execFileSync(py, ['-c', 'import torch, transformers, peft'], { stdio: 'ignore' });
  } catch {
    return `'${py} -c "import torch, transformers, peft"' failed (set TAGI_BENCH_PYTHON)`;
  }
  const args = [path.join(here, 'pytorch_peer.py'), '--batch', String(shape.batch), '--src', String(shape.src), '--tgt', String(shape.tgt), '--rank', String(RANK)];
  args.push('--d-model', String(shape.dModel), '--d-kv', String(shape.dKv), '--d-ff', String(shape.dFf), '--heads', String(shape.numHeads), '--layers', String(shape.layers), '--vocab', String(shape.vocab));
  const child: ChildProcessWithoutNullStreams = spawn(py, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.on('data', () => undefined); // transformers' warnings: not ours to print
  const lines = readline.createInterface({ input: child.stdout });
  const queue: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  lines.on('line', (line) => queue.shift()?.resolve(line));
  child.on('exit', (code) => {
    for (const w of queue.splice(0)) w.reject(new Error(`PyTorch peer exited (${code})`));
  });
  const next = () => new Promise<string>((resolve, reject) => queue.push({ resolve, reject }));
  const hello = JSON.parse(await next()) as { ready: boolean; threads: number; versions: string };
  return {
    info: hello,
    async run(req) {
      child.stdin.write(`${JSON.stringify(req)}\n`);
      const res = JSON.parse(await next()) as { seconds?: number; error?: string };
      if (res.seconds === undefined) throw new Error(`PyTorch peer: ${res.error ?? 'no timing'}`);
      return res.seconds;
    },
    close() {
      child.stdin.end();
    },
  };
}

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
        const { value, grads } = tf.variableGrads(() => model.forward({ ...sl, adapters }).loss!, vars);
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
// measurement

interface Stats {
  tokPerS: number[];
  median: number;
  min: number;
  max: number;
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const stats = (xs: number[]): Stats => ({ tokPerS: xs, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

interface Variant {
  label: string;
  tokens: number;
  ours: () => Promise<void> | void;
  peer?: Record<string, unknown>;
  /** A shorter run that sets up the same kernels (generation: 2 new tokens), default: the run itself. */
  warmOurs?: () => Promise<void> | void;
  warmPeer?: Record<string, unknown>;
}
interface RowResult {
  row: string;
  variants: { label: string; ours: Stats; peer?: Stats; ratio?: Stats }[];
  /** gen rows: per-repetition ours(cache)/ours(no cache) and the same for the peer. */
  cacheSpeedup?: { ours: Stats; peer?: Stats };
  load: { before: number[]; after: number[] };
  seconds: number;
}

async function seconds(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function measureRow(row: string, variants: Variant[], peer: Peer | undefined): Promise<RowResult> {
  const t0 = performance.now();
  const before = os.loadavg();
  // warm-up of every variant on both sides (kernel setup, allocation)
  for (const v of variants) {
    await (v.warmOurs ?? v.ours)();
    if (peer && v.peer) await peer.run(v.warmPeer ?? v.peer);
  }
  const ours = variants.map(() => [] as number[]);
  const theirs = variants.map(() => [] as number[]);
  for (let r = 0; r < REPS; r++) {
    for (const [i, v] of variants.entries()) {
      ours[i]!.push(v.tokens / (await seconds(v.ours)));
      if (peer && v.peer) theirs[i]!.push(v.tokens / (await peer.run(v.peer)));
    }
  }
  const result: RowResult = {
    row,
    variants: variants.map((v, i) => {
      const o = stats(ours[i]!);
      if (!theirs[i]!.length) return { label: v.label, ours: o };
      return { label: v.label, ours: o, peer: stats(theirs[i]!), ratio: stats(ours[i]!.map((x, j) => x / theirs[i]![j]!)) };
    }),
    load: { before, after: os.loadavg() },
    seconds: (performance.now() - t0) / 1000,
  };
  if (variants.length === 2 && row.startsWith('gen')) {
    const speed = (xs: number[][]) => stats(xs[0]!.map((x, j) => x / xs[1]![j]!));
    result.cacheSpeedup = { ours: speed(ours), ...(theirs[0]!.length ? { peer: speed(theirs) } : {}) };
  }
  return result;
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
  const step = new Map([...b].map(([k, e]) => {
    const s0 = a.get(k) ?? { count: 0, ms: 0, flop: 0 };
    return [k, { count: e.count - s0.count, ms: e.ms - s0.ms, flop: e.flop - s0.flop }] as const;
  }));
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
  for (const [what, part] of [['forward', p.forward], ['one cached decoding step', p.decodeStep]] as const) {
    console.log(`  profile, ${what}: ${Math.round(part.kernels)} kernels, ${part.ms.toFixed(1)} ms of kernel time under the profiler; ${part.wallMs.toFixed(1)} ms wall without it`);
    for (const r of part.top) {
      const g = r.gflops !== undefined ? `  ${r.gflops.toFixed(1)} GFLOP/s` : '';
      console.log(`    ${r.kernel.padEnd(18)} ${String(Math.round(r.count)).padStart(6)} calls ${r.ms.toFixed(1).padStart(9)} ms ${((100 * r.ms) / part.ms).toFixed(0).padStart(4)}%${g}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// main

const fmt = (x: number) => x.toFixed(1);
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
console.log(
  `t5 bench (${shapeName}): d_model ${shape.dModel}, ${shape.layers}+${shape.layers} layers, ${shape.numHeads} heads, d_kv ${shape.dKv}, d_ff ${shape.dFf}, gated-gelu, vocab ${shape.vocab}; batch ${shape.batch}, src ${shape.src}, tgt ${shape.tgt}; ${REPS} interleaved repetitions after a warm-up`,
);
console.log(`load average at start: ${load(os.loadavg())} (${os.cpus().length} cpus)`);

let peer: Peer | undefined;
if (flag('no-peer') === undefined) {
  const p = await startPeer();
  if (typeof p === 'string') console.log(`PyTorch peer skipped: ${p}`);
  else {
    peer = p;
    console.log(`PyTorch peer: ${p.info.versions}, ${p.info.threads} threads`);
  }
}

const report: { date: string; shape: string; dims: typeof shape; reps: number; peer?: Peer['info']; backends: Record<string, { micro: number; rows: RowResult[]; profile?: Profile } | { error: string }>; peakRssMB?: number } = {
  date: new Date().toISOString(),
  shape: shapeName,
  dims: shape,
  reps: REPS,
  ...(peer ? { peer: peer.info } : {}),
  backends: {},
};

for (const b of BACKENDS) {
  try {
    await useBackend(b);
  } catch (e) {
    console.log(`\n${b}: unavailable (${(e as Error).message.split('\n')[0]})`);
    report.backends[b] = { error: (e as Error).message.split('\n')[0] as string };
    continue;
  }
  const ours = setUp(b);
  const rows: RowResult[] = [];
  let prof: Profile | undefined;
  const fwdTokens = shape.batch * (shape.src + shape.tgt);
  console.log(`\n${b}${ours.micro < shape.batch ? ` (training step: ${shape.batch / ours.micro} micro-batches of ${ours.micro})` : ''}`);
  console.log('  row                 ours tok/s (median, min–max)     PyTorch tok/s                  ours/PyTorch         load before → after');
  const print = (r: RowResult) => {
    for (const v of r.variants) {
      const o = `${fmt(v.ours.median)} (${fmt(v.ours.min)}–${fmt(v.ours.max)})`.padEnd(32);
      const p = v.peer ? `${fmt(v.peer.median)} (${fmt(v.peer.min)}–${fmt(v.peer.max)})`.padEnd(30) : '–'.padEnd(30);
      const q = v.ratio ? `×${v.ratio.median.toFixed(2)} (${v.ratio.min.toFixed(2)}–${v.ratio.max.toFixed(2)})`.padEnd(20) : '–'.padEnd(20);
      console.log(`  ${v.label.padEnd(18)}  ${o} ${p} ${q} ${load(r.load.before)} → ${load(r.load.after)}`);
    }
    if (r.cacheSpeedup) {
      const s = r.cacheSpeedup;
      console.log(`  ${''.padEnd(18)}  cache speed-up: ours ×${s.ours.median.toFixed(2)} (${s.ours.min.toFixed(2)}–${s.ours.max.toFixed(2)})${s.peer ? `, PyTorch ×${s.peer.median.toFixed(2)} (${s.peer.min.toFixed(2)}–${s.peer.max.toFixed(2)})` : ''}`);
    }
  };
  try {
    for (const row of ROWS) {
      let r: RowResult;
      if (row === 'forward') r = await measureRow(row, [{ label: 'forward', tokens: fwdTokens, ours: () => ours.forward(), peer: { row: 'forward' } }], peer);
      else if (row === 'train') r = await measureRow(row, [{ label: 'LoRA train step', tokens: fwdTokens, ours: () => ours.train(), peer: { row: 'train' } }], peer);
      else {
        const n = row === 'gen16' ? 16 : 64;
        r = await measureRow(
          row,
          [
            // warm-ups of 2 new tokens set up every kernel (a 64-token no-cache run on wasm takes minutes)
            { label: `generate ${n}, cache`, tokens: shape.batch * n, ours: () => ours.gen(n, true), peer: { row: 'gen', new_tokens: n, cache: true }, warmOurs: () => ours.gen(2, true), warmPeer: { row: 'gen', new_tokens: 2, cache: true } },
            { label: `generate ${n}, no cache`, tokens: shape.batch * n, ours: () => ours.gen(n, false), peer: { row: 'gen', new_tokens: n, cache: false }, warmOurs: () => ours.gen(2, false), warmPeer: { row: 'gen', new_tokens: 2, cache: false } },
          ],
          peer,
        );
      }
      rows.push(r);
      print(r);
    }
    if (PROFILE) prof = await profile(ours);
  } finally {
    ours.dispose();
  }
  if (prof) printProfile(prof);
  report.backends[b] = { micro: ours.micro, rows, ...(prof ? { profile: prof } : {}) };
}
peer?.close();
report.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(`\nload average at end: ${load(os.loadavg())}; peak RSS of this process ${report.peakRssMB} MB`);
if (jsonFlag !== undefined) {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (jsonFlag === true) console.log(text);
  else fs.writeFileSync(jsonFlag, text);
}
