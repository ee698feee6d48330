// `pnpm bench` for @tagi/hypernet, on random weights in the t5-small-lm-adapt shape (cost does not depend on them):
//  1. adapter generation for one instruction (`generateAdapter`: frozen encoder pass, pooling, generator heads),
//     interleaved repetition by repetition with a PyTorch peer of the same encoder + generator shape
//     (bench/torch_peer.py; skipped with a reason when no Python with torch + transformers is found);
//  2. the per-instance inference cost with a cached adapter against the instruction concatenated into every
//     input (interleaved), beside the FLOPs model of @tagi/eval.
// Every figure is a median with its spread (quartiles, min–max); the load average is printed at start and end,
// because on a shared machine 2-thread PyTorch slows far more than tfjs. `--json` prints one JSON object.
//
//   pnpm bench [-- --backend=wasm|tensorflow|cpu|auto] [--repeats=N] [--json] [--no-peer] [--generation-only]
//   env: BENCH_INSTRUCTION (256), BENCH_INPUT (48), BENCH_TARGET (8), BENCH_BATCH (4), BENCH_REPEATS (7),
//        BENCH_BACKEND, TAGI_BENCH_PYTHON (default: ../venv/bin/python beside the repository, else python3),
//        TAGI_BENCH_TORCH_THREADS (default: PyTorch's own choice, the number of cores)
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { compareInstructionCost, costConfigFromHf, encoderFlops } from '@tagi/eval';
import { Rng, initBackend } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config, t5ConfigToJson } from '@tagi/t5-model';
import { padIds, padLabels } from '../src/batching.js';
import { HyperNetwork } from '../src/hypernet.js';
import { generateAdapter, taskPrefix } from '../src/inference.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const JSON_OUT = flag('json');
const INSTRUCTION = Number(process.env['BENCH_INSTRUCTION'] ?? 256); // tokens: a Def+2Pos SNI instruction is ~200-300
const INPUT = Number(process.env['BENCH_INPUT'] ?? 48);
const TARGET = Number(process.env['BENCH_TARGET'] ?? 8);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 4);
const REPEATS = Number(option('repeats') ?? process.env['BENCH_REPEATS'] ?? 7);
const BACKEND = (option('backend') ?? process.env['BENCH_BACKEND'] ?? 'auto') as 'auto' | 'tensorflow' | 'wasm' | 'cpu';
const INSTANCES_PER_TASK = 100; // SNI evaluates (at most) 100 instances per test task
const log = (...xs: unknown[]) => {
  if (!JSON_OUT) console.log(...xs);
};

/** Median and spread of repeated timings (ms). */
interface Stats {
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  n: number;
}
function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => {
    const i = (s.length - 1) * q;
    const lo = Math.floor(i);
    return (s[lo] as number) + ((s[Math.ceil(i)] as number) - (s[lo] as number)) * (i - lo);
  };
  return { median: at(0.5), q1: at(0.25), q3: at(0.75), min: s[0] as number, max: s[s.length - 1] as number, n: s.length };
}
const fmt = (s: Stats) => `${s.median.toFixed(0)} ms (IQR ${s.q1.toFixed(0)}–${s.q3.toFixed(0)}, range ${s.min.toFixed(0)}–${s.max.toFixed(0)}, n ${s.n})`;
const load = () => os.loadavg().map((x) => Number(x.toFixed(2))) as [number, number, number];

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** The PyTorch peer as a child process answering one request per line (see torch_peer.py). */
class TorchPeer {
  private readonly lines: AsyncIterator<string>;
  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    readonly info: { torch: string; threads: number; python: string },
    lines: AsyncIterator<string>,
  ) {
    this.lines = lines;
  }

  static async start(spec: Record<string, unknown>): Promise<TorchPeer | string> {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const sibling = path.resolve(here, '../../../../venv/bin/python'); // <repo>/../venv, beside ../shared
    const python = process.env['TAGI_BENCH_PYTHON'] ?? (existsSync(sibling) ? sibling : 'python3');
    const proc = spawn(python, [path.join(here, 'torch_peer.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const failed = new Promise<string>((resolve) => {
      proc.on('error', (e) => resolve(`cannot run ${python}: ${e.message}`));
      proc.on('exit', (code) => resolve(`${python} exited with ${code}: ${stderr.trim().split('\n').slice(-1)[0] ?? ''}`));
    });
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    proc.stdin.write(`${JSON.stringify(spec)}\n`);
    const first = await Promise.race([lines.next().then((r) => (r.done ? undefined : r.value)), failed]);
    if (first === undefined || !first.startsWith('{')) {
      proc.kill();
      return first ?? 'the peer ended before answering';
    }
    const ready = JSON.parse(first) as { torch: string; threads: number };
    return new TorchPeer(proc, { torch: ready.torch, threads: ready.threads, python }, lines);
  }

  async run(): Promise<{ ms: number; encode_ms: number }> {
    this.proc.stdin.write('run\n');
    const r = await this.lines.next();
    if (r.done) throw new Error('the PyTorch peer ended unexpectedly');
    return JSON.parse(r.value) as { ms: number; encode_ms: number };
  }

  stop(): void {
    this.proc.stdin.end('quit\n');
  }
}

async function main(): Promise<void> {
  const loadStart = load();
  const report = await initBackend({ backend: BACKEND });
  const shape = {
    vocabSize: 32128,
    dModel: 512,
    dKv: 64,
    numHeads: 6,
    dFf: 1024,
    numLayers: 8,
    numDecoderLayers: 8,
    relativeAttentionNumBuckets: 32,
    relativeAttentionMaxDistance: 128,
    feedForwardProj: 'gated-gelu',
  } as const;
  const config = makeT5Config({ ...shape, tieWordEmbeddings: false, dropoutRate: 0 });
  const base = createRandomT5(config, 0);
  base.eval();
  base.setTrainable(false);
  const hn = new HyperNetwork(base, { bHeadInitStd: 0.01 }); // paper defaults: rank 32, q/v of all attention, concat fusion
  const hnParams = hn.parameters().reduce((s, v) => s + v.size, 0);
  log(`backend ${report.backend} (requested ${BACKEND}); load average ${loadStart.join(' ')} on ${os.cpus().length} cores`);
  log(
    `hypernet: ${hn.targetModules.length} target modules, rank ${hn.config.rank}, ${(hnParams / 1e6).toFixed(2)} M parameters; instruction ${INSTRUCTION} tokens`,
  );

  const rng = new Rng(1);
  const ids = (n: number) => [...Array.from({ length: n - 1 }, () => 3 + Math.floor(rng.next() * 31000)), 1];
  const instruction = ids(INSTRUCTION);

  // 1. adapter generation, interleaved with the PyTorch peer
  const peer = flag('no-peer')
    ? 'disabled (--no-peer)'
    : await TorchPeer.start({
        vocab_size: shape.vocabSize,
        d_model: shape.dModel,
        d_kv: shape.dKv,
        d_ff: shape.dFf,
        num_layers: shape.numLayers,
        num_heads: shape.numHeads,
        relative_attention_num_buckets: shape.relativeAttentionNumBuckets,
        relative_attention_max_distance: shape.relativeAttentionMaxDistance,
        feed_forward_proj: shape.feedForwardProj,
        hidden_dim: hn.config.hiddenDim,
        module_embedding_dim: hn.config.moduleEmbeddingDim,
        rank: hn.config.rank,
        modules: hn.targetModules.map((t) => [t.inFeatures, t.outFeatures]),
        instruction_length: INSTRUCTION,
        ...(process.env['TAGI_BENCH_TORCH_THREADS'] ? { threads: Number(process.env['TAGI_BENCH_TORCH_THREADS']) } : {}),
      });
  if (typeof peer === 'string') log(`PyTorch peer skipped: ${peer}`);
  else log(`PyTorch peer: torch ${peer.info.torch}, ${peer.info.threads} threads (${peer.info.python})`);
  const lastB = hn.targetModules[hn.targetModules.length - 1]?.path as string;
  const ours = () =>
    time(() => {
      const task = generateAdapter(hn, instruction);
      task.adapter.factorsOf(lastB)?.B.dataSync(); // the work is done (and read back once), as the peer's
      task.dispose();
    });
  const oursEncode = () =>
    time(() => {
      const x = padIds([instruction], 0);
      const enc = hn.encodeInstructions(x.ids, x.mask);
      enc.states.dataSync();
      tf.dispose([x.ids, x.mask, enc.states, enc.mask]);
    });
  ours(); // warm-up (kernel set-up, buffers)
  oursEncode();
  const gen: number[] = [];
  const enc: number[] = [];
  const torchGen: number[] = [];
  const torchEnc: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    gen.push(ours());
    if (typeof peer !== 'string') {
      const r = await peer.run();
      torchGen.push(r.ms);
      torchEnc.push(r.encode_ms);
    }
    enc.push(oursEncode());
  }
  if (typeof peer !== 'string') peer.stop();
  const generation = {
    ours: stats(gen),
    oursEncode: stats(enc),
    ...(torchGen.length > 0
      ? { torch: stats(torchGen), torchEncode: stats(torchEnc), torchInfo: typeof peer === 'string' ? undefined : peer.info }
      : { torchSkipped: peer as string }),
  };
  log(`\nadapter generation (${INSTRUCTION}-token instruction), interleaved:`);
  log(`  ours (${report.backend}):  ${fmt(generation.ours)}; encoder alone ${fmt(generation.oursEncode)}`);
  if ('torch' in generation && generation.torch) {
    log(`  PyTorch:        ${fmt(generation.torch)}; encoder alone ${fmt(generation.torchEncode)}`);
    log(`  ratio ours / PyTorch (medians): ×${(generation.ours.median / generation.torch.median).toFixed(2)}`);
  }

  let perInstance: Record<string, unknown> | undefined;
  if (!flag('generation-only')) {
    // 2. per-instance inference: teacher-forced forward over TARGET tokens for BATCH instances
    const inputs = Array.from({ length: BATCH }, () => ids(INPUT));
    const targets = Array.from({ length: BATCH }, () => ids(TARGET));
    const concatX = padIds(
      inputs.map((x) => [...instruction.slice(0, -1), ...x]),
      0,
    );
    const plainX = padIds(inputs, 0);
    const labels = padLabels(targets);
    const task = generateAdapter(hn, instruction);
    const prefix = taskPrefix(task, BATCH)!;
    const runs = {
      concat: () => tf.tidy(() => void base.forward({ inputIds: concatX.ids, attentionMask: concatX.mask, labels }).logits.dataSync()),
      adapterFusion: () =>
        tf.tidy(
          () =>
            void base
              .forward({ inputIds: plainX.ids, attentionMask: plainX.mask, labels, adapters: task.adapter.deltas, encoderPrefix: prefix })
              .logits.dataSync(),
        ),
      adapter: () =>
        tf.tidy(() => void base.forward({ inputIds: plainX.ids, attentionMask: plainX.mask, labels, adapters: task.adapter.deltas }).logits.dataSync()),
      merged: () => tf.tidy(() => void base.forward({ inputIds: plainX.ids, attentionMask: plainX.mask, labels }).logits.dataSync()),
    };
    const keys = Object.keys(runs) as (keyof typeof runs)[];
    const times: Record<keyof typeof runs, number[]> = { concat: [], adapterFusion: [], adapter: [], merged: [] };
    const timed = (k: keyof typeof runs) => {
      if (k === 'merged') task.adapter.merge(base);
      try {
        return time(runs[k]) / BATCH;
      } finally {
        if (k === 'merged') task.adapter.unmerge(base);
      }
    };
    for (const k of keys) timed(k); // warm-up
    for (let i = 0; i < REPEATS; i++) for (const k of keys) times[k].push(timed(k)); // interleaved
    const s = Object.fromEntries(keys.map((k) => [k, stats(times[k])])) as Record<keyof typeof runs, Stats>;
    const amortised = (perInstanceMs: number) => generation.ours.median / INSTANCES_PER_TASK + perInstanceMs;
    const rel = (k: keyof typeof runs) => s[k].median / s.concat.median;
    log(`\nper instance (input ${INPUT}, instruction ${INSTRUCTION}, target ${TARGET} tokens, batch ${BATCH}), interleaved:`);
    log(`  instruction concatenated (Tk-Instruct):     ${fmt(s.concat)}`);
    log(
      `  cached adapter + concat fusion (TAGI):      ${fmt(s.adapterFusion)} → ×${rel('adapterFusion').toFixed(2)} (×${(amortised(s.adapterFusion.median) / s.concat.median).toFixed(2)} with generation amortised over ${INSTANCES_PER_TASK} instances)`,
    );
    log(`  cached adapter, no fusion (low-rank path):  ${fmt(s.adapter)} → ×${rel('adapter').toFixed(2)}`);
    log(
      `  adapter merged into the weights:            ${fmt(s.merged)} → ×${rel('merged').toFixed(2)} (×${(amortised(s.merged.median) / s.concat.median).toFixed(2)} amortised)`,
    );

    // FLOPs model (@tagi/eval) for the same lengths; hypernet FLOPs = instruction encoding + generator MLP
    const cost = costConfigFromHf(t5ConfigToJson(config));
    const H = hn.config.hiddenDim;
    const r = hn.config.rank;
    const generatorFlops =
      2 * (512 * H + hn.targetModules.reduce((sum, t) => sum + hn.config.moduleEmbeddingDim * H + H * r * (t.inFeatures + t.outFeatures), 0));
    const lengths = { instruction: INSTRUCTION, input: INPUT, target: TARGET };
    const hypernetFlops = encoderFlops(cost, INSTRUCTION) + generatorFlops;
    const fused = compareInstructionCost(cost, lengths, { hypernetFlops, instances: INSTANCES_PER_TASK, fusion: true });
    const plain = compareInstructionCost(cost, lengths, { hypernetFlops, instances: INSTANCES_PER_TASK, fusion: false });
    log(
      `\nFLOPs model: concatenated ${(fused.concatenated / 1e9).toFixed(2)} GFLOP/instance; TAGI with fusion ×${fused.relative.toFixed(2)}, merged without fusion ×${plain.relative.toFixed(2)} (amortised over ${INSTANCES_PER_TASK}; paper: ×0.39 on SNI)`,
    );
    perInstance = {
      lengths: { ...lengths, batch: BATCH },
      msPerInstance: s,
      relativeToConcatenated: Object.fromEntries(keys.map((k) => [k, rel(k)])),
      flops: { concatenatedPerInstance: fused.concatenated, relativeFusion: fused.relative, relativeMergedNoFusion: plain.relative },
    };
    task.dispose();
    tf.dispose([concatX.ids, concatX.mask, plainX.ids, plainX.mask, labels, prefix.states, prefix.mask]);
  }
  const loadEnd = load();
  log(`\nload average at the end: ${loadEnd.join(' ')}`);
  if (JSON_OUT) {
    const out = {
      bench: '@tagi/hypernet',
      date: new Date().toISOString(),
      backend: report.backend,
      cores: os.cpus().length,
      loadAverage: { start: loadStart, end: loadEnd },
      repeats: REPEATS,
      shape: { ...shape, hypernet: { modules: hn.targetModules.length, rank: hn.config.rank, hiddenDim: hn.config.hiddenDim, parameters: hnParams } },
      instructionTokens: INSTRUCTION,
      generation,
      ...(perInstance ? { perInstance } : {}),
    };
    console.log(JSON.stringify(out, null, 2));
  }
  hn.dispose();
  base.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
