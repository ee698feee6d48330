// `pnpm bench`: a T5 with random weights on each available backend, against the same model in PyTorch +
// transformers + peft (bench/pytorch_peer.py) when that stack is importable. Rows: forward, a LoRA training
// step (frozen base, rank-8 deltas on q and v, AdamW), the same step with per-block activation recomputation on
// both sides (`train-recompute`: ours `setRecomputeBlocks`, transformers' gradient checkpointing), and greedy generation with and without the KV cache at
// 16 and 64 new tokens.
//
// Protocol: the two sides never share the machine. Each measurement is a *phase*: a fresh process of one side
// (ours: bench/t5-side.ts on one backend; the peer: bench/pytorch_peer.py) builds the model, runs one row (a
// warm-up, then one timed run of each variant), reports its tokens/s and its peak RSS, and exits before the
// other side's phase starts; phases alternate ours, PyTorch, ours, PyTorch, … (A B A B), so both sides see the
// same drift of the machine, and each repetition gives one ratio. This driver loads no tensor library itself.
// Why: with a long-lived peer beside a tfjs-node process, PyTorch ran 3× slower than alone in the same run
// (`--interference` measures what an idle process of one side costs the other). A phase per row also makes
// each side's peak RSS the peak of that row (the training step's peak is the one compared).
//
//   npx tsx bench/t5.ts [--shape t5-small-lm-adapt|small] [--backends tensorflow,wasm] [--reps 3]
//                       [--rows forward,train,train-recompute,gen16,gen64] [--no-peer] [--json [FILE]] [--profile]
//                       [--interference]
// Env: TAGI_BENCH_PYTHON (a python with torch, transformers and peft; default /work/venv/bin/python if it
// exists, else python3), TAGI_BENCH_MICRO (training micro-batch; default: whole batch, 2 on wasm).
//
// Tokens/s counts batch × (input + target) for forward and training and generated tokens for generation
// (encoding included, every row makes exactly N tokens).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { flag, RANK, ROWS as ALL_ROWS, SHAPES, str, type PhaseResult, type Row, type ShapeName } from './shapes.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const shapeName = str('shape', 't5-small-lm-adapt') as ShapeName;
const shape = SHAPES[shapeName];
if (!shape) throw new Error(`--shape: expected one of ${Object.keys(SHAPES).join(', ')}, got '${shapeName}'`);
const REPS = Number(str('reps', '3'));
if (!Number.isInteger(REPS) || REPS < 1) throw new Error(`--reps: expected an integer >= 1, got '${str('reps', '')}'`);
const ROWS = str('rows', ALL_ROWS.join(','))
  .split(',')
  .map((s) => s.trim()) as Row[];
for (const r of ROWS) if (!ALL_ROWS.includes(r)) throw new Error(`--rows: unknown row '${r}' (${ALL_ROWS.join(', ')})`);
const BACKENDS = str('backends', 'tensorflow,wasm')
  .split(',')
  .map((s) => s.trim());
const jsonFlag = flag('json');
const PROFILE = flag('profile') !== undefined;
const INTERFERENCE = flag('interference') !== undefined;

// ---------------------------------------------------------------------------------------------
// phases

/** A running phase process: its result once it has run its row; `close()` lets it exit. */
interface Running {
  result: Promise<PhaseResult>;
  pid: number;
  close(): Promise<void>;
}

/** Our side, one row on one backend. `hold`: after reporting, the process stays (idle) until closed. */
function startOurs(backend: string, row: Row, opts: { hold?: boolean; profile?: boolean } = {}): Running {
  const args = [...process.execArgv, path.join(here, 't5-side.ts'), '--backend', backend, '--row', row, '--shape', shapeName];
  if (opts.hold) args.push('--hold');
  if (opts.profile) args.push('--profile');
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const errTail: string[] = [];
  child.stderr.on('data', (d: Buffer) => {
    errTail.push(
      ...d
        .toString()
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    errTail.splice(0, Math.max(0, errTail.length - 20));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const result = new Promise<PhaseResult>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('{"variants"')) resolve(JSON.parse(line) as PhaseResult);
      else if (opts.profile) console.log(line);
    });
    void exited.then((code) =>
      reject(
        new Error(
          `our ${backend} phase (${row}) exited with ${code}: ${errTail.filter((l) => /Error|error/.test(l)).slice(-1)[0] ?? errTail.slice(-1)[0] ?? ''}`,
        ),
      ),
    );
  });
  return {
    result,
    pid: child.pid as number,
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

function defaultPython(): string {
  return process.env['TAGI_BENCH_PYTHON'] ?? (fs.existsSync('/work/venv/bin/python') ? '/work/venv/bin/python' : 'python3');
}

/** Why the peer cannot run, or undefined when it can. */
function peerProblem(): string | undefined {
  const py = defaultPython();
  try {
    execFileSync(py, ['-c', 'import torch, transformers, peft'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return `'${py} -c "import torch, transformers, peft"' failed (set TAGI_BENCH_PYTHON to a python with them)`;
  }
}

let peerInfo: { threads: number; versions: string } | undefined;

/** The PyTorch peer, one row. `hold`: after reporting, the process stays (idle) until closed. */
function startPeer(row: Row, opts: { hold?: boolean } = {}): Running {
  const args = [
    path.join(here, 'pytorch_peer.py'),
    '--batch',
    String(shape.batch),
    '--src',
    String(shape.src),
    '--tgt',
    String(shape.tgt),
    '--rank',
    String(RANK),
  ];
  args.push(
    '--d-model',
    String(shape.dModel),
    '--d-kv',
    String(shape.dKv),
    '--d-ff',
    String(shape.dFf),
    '--heads',
    String(shape.numHeads),
    '--layers',
    String(shape.layers),
    '--vocab',
    String(shape.vocab),
  );
  if (row === 'train' || row === 'train-recompute') args.push('--only-train');
  if (row === 'train-recompute') args.push('--recompute');
  const child = spawn(defaultPython(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.on('data', () => undefined); // transformers' warnings: not ours to print
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const queue: ((line: string) => void)[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => queue.shift()?.(line));
  const next = () =>
    Promise.race([new Promise<string>((resolve) => queue.push(resolve)), exited.then((code) => Promise.reject(new Error(`PyTorch peer exited (${code})`)))]);
  const ask = async (req: Record<string, unknown>): Promise<Record<string, unknown>> => {
    child.stdin.write(`${JSON.stringify(req)}\n`);
    const res = JSON.parse(await next()) as Record<string, unknown>;
    if (res['error'] !== undefined) throw new Error(`PyTorch peer: ${String(res['error'])}`);
    return res;
  };
  const n = row === 'gen16' ? 16 : 64;
  const fwdTokens = shape.batch * (shape.src + shape.tgt);
  const variants: { label: string; tokens: number; req: Record<string, unknown>; warm: Record<string, unknown> }[] =
    row === 'forward'
      ? [{ label: 'forward', tokens: fwdTokens, req: { row: 'forward' }, warm: { row: 'forward' } }]
      : row === 'train' || row === 'train-recompute'
        ? [{ label: row === 'train' ? 'LoRA train step' : 'LoRA step, recomputed', tokens: fwdTokens, req: { row: 'train' }, warm: { row: 'train' } }]
        : [true, false].map((cache) => ({
            label: `generate ${n}, ${cache ? 'cache' : 'no cache'}`,
            tokens: shape.batch * n,
            req: { row: 'gen', new_tokens: n, cache },
            warm: { row: 'gen', new_tokens: 2, cache },
          }));
  const result = (async (): Promise<PhaseResult> => {
    const hello = JSON.parse(await next()) as { threads: number; versions: string };
    peerInfo = { threads: hello.threads, versions: hello.versions };
    for (const v of variants) await ask(v.warm);
    const seconds: number[][] = [];
    for (const v of variants) seconds.push([(await ask(v.req))['seconds'] as number]);
    const rss = (await ask({ row: 'rss' }))['peak_rss_mb'] as number;
    if (!opts.hold) child.stdin.end();
    return { variants: variants.map((v, i) => ({ label: v.label, tokens: v.tokens, seconds: seconds[i] as number[] })), peakRssMB: rss };
  })();
  return {
    result,
    pid: child.pid as number,
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

async function runPhase(r: Running): Promise<PhaseResult> {
  try {
    return await r.result;
  } finally {
    await r.close();
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // fields after the command: state is [0], utime [11], stime [12], in clock ticks (100 per second here)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// statistics and printing

interface Stats {
  values: number[];
  median: number;
  min: number;
  max: number;
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const stats = (xs: number[]): Stats => ({ values: xs, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const fmt = (x: number) => x.toFixed(1);
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
const span = (s: Stats, digits = 1) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;

interface VariantResult {
  label: string;
  ours: Stats;
  peer?: Stats;
  ratio?: Stats;
}
interface RowResult {
  row: Row;
  variants: VariantResult[];
  /** gen rows: per-phase ours(cache)/ours(no cache), and the same for the peer. */
  cacheSpeedup?: { ours: Stats; peer?: Stats };
  peakRssMB: { ours: Stats; peer?: Stats };
  /** Train row: tfjs's largest live tensor bytes during a step. */
  tensorPeakMB?: Stats;
  micro?: number;
  /** 1-minute load average before each phase (ours, peer alternating). */
  load: number[];
  seconds: number;
}

async function measureRow(backend: string, row: Row, withPeer: boolean): Promise<RowResult> {
  const t0 = performance.now();
  const ours: PhaseResult[] = [];
  const peer: PhaseResult[] = [];
  const loads: number[] = [];
  for (let r = 0; r < REPS; r++) {
    loads.push(os.loadavg()[0] as number);
    ours.push(await runPhase(startOurs(backend, row)));
    if (withPeer) {
      loads.push(os.loadavg()[0] as number);
      peer.push(await runPhase(startPeer(row)));
    }
  }
  const tokPerS = (ps: PhaseResult[], i: number) => ps.map((p) => (p.variants[i]?.tokens as number) / (p.variants[i]?.seconds[0] as number));
  const variants = (ours[0] as PhaseResult).variants.map((v, i): VariantResult => {
    const o = tokPerS(ours, i);
    if (!withPeer) return { label: v.label, ours: stats(o) };
    const p = tokPerS(peer, i);
    return { label: v.label, ours: stats(o), peer: stats(p), ratio: stats(o.map((x, j) => x / (p[j] as number))) };
  });
  const res: RowResult = {
    row,
    variants,
    peakRssMB: { ours: stats(ours.map((p) => p.peakRssMB)), ...(withPeer ? { peer: stats(peer.map((p) => p.peakRssMB)) } : {}) },
    load: loads,
    seconds: (performance.now() - t0) / 1000,
  };
  if (row === 'train' || row === 'train-recompute') {
    res.tensorPeakMB = stats(ours.map((p) => p.tensorPeakMB as number));
    res.micro = ours[0]?.micro as number;
  }
  if (row.startsWith('gen')) {
    const speed = (ps: PhaseResult[]) => stats(tokPerS(ps, 0).map((x, j) => x / (tokPerS(ps, 1)[j] as number)));
    res.cacheSpeedup = { ours: speed(ours), ...(withPeer ? { peer: speed(peer) } : {}) };
  }
  return res;
}

function printRow(r: RowResult): void {
  for (const v of r.variants) {
    const o = span(v.ours).padEnd(28);
    const p = (v.peer ? span(v.peer) : '–').padEnd(28);
    const q = (v.ratio ? `×${span(v.ratio, 2)}` : '–').padEnd(20);
    console.log(`  ${v.label.padEnd(22)} ${o} ${p} ${q}`);
  }
  if (r.cacheSpeedup) {
    const s = r.cacheSpeedup;
    console.log(`  ${''.padEnd(22)} cache speed-up: ours ×${span(s.ours, 2)}${s.peer ? `, PyTorch ×${span(s.peer, 2)}` : ''}`);
  }
  const rss = r.peakRssMB;
  const tensors = r.tensorPeakMB ? `; tfjs tensors at the step's peak ${fmt(r.tensorPeakMB.median)} MB` : '';
  const ratio = rss.peer ? ` (ours/PyTorch ×${(rss.ours.median / rss.peer.median).toFixed(2)})` : '';
  console.log(
    `  ${''.padEnd(22)} peak RSS MB: ours ${span(rss.ours, 0)}${rss.peer ? `, PyTorch ${span(rss.peer, 0)}` : ''}${ratio}${tensors}; load before each phase ${r.load.map((x) => x.toFixed(2)).join(' ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// --interference: does an idle process of one side slow the other? Each side's row alone, then beside an
// idle process of the other side that has just run the same row (its thread pools and memory as they are
// after work), alternating; with the CPU seconds the idle process used meanwhile.

interface Interference {
  row: Row;
  backend: string;
  /** tokens/s of the measured side: alone and beside the idle other side, per repetition. */
  peer: { alone: Stats; besideIdleOurs: Stats; idleCpuSeconds: Stats };
  ours: { alone: Stats; besideIdlePeer: Stats; idleCpuSeconds: Stats };
  load: number[];
}

async function interference(backend: string, row: Row): Promise<Interference> {
  const tps = (p: PhaseResult) => (p.variants[0]?.tokens as number) / (p.variants[0]?.seconds[0] as number);
  const beside = async (idle: Running, measure: () => Running): Promise<[number, number]> => {
    try {
      await idle.result;
      const before = cpuSeconds(idle.pid) ?? Number.NaN;
      const res = await runPhase(measure());
      return [tps(res), (cpuSeconds(idle.pid) ?? Number.NaN) - before];
    } finally {
      await idle.close();
    }
  };
  const acc = { pa: [] as number[], pb: [] as number[], pc: [] as number[], oa: [] as number[], ob: [] as number[], oc: [] as number[] };
  const loads: number[] = [];
  for (let r = 0; r < REPS; r++) {
    loads.push(os.loadavg()[0] as number);
    acc.pa.push(tps(await runPhase(startPeer(row))));
    const [p, pc] = await beside(startOurs(backend, row, { hold: true }), () => startPeer(row));
    acc.pb.push(p);
    acc.pc.push(pc);
    acc.oa.push(tps(await runPhase(startOurs(backend, row))));
    const [o, oc] = await beside(startPeer(row, { hold: true }), () => startOurs(backend, row));
    acc.ob.push(o);
    acc.oc.push(oc);
  }
  return {
    row,
    backend,
    peer: { alone: stats(acc.pa), besideIdleOurs: stats(acc.pb), idleCpuSeconds: stats(acc.pc) },
    ours: { alone: stats(acc.oa), besideIdlePeer: stats(acc.ob), idleCpuSeconds: stats(acc.oc) },
    load: loads,
  };
}

// ---------------------------------------------------------------------------------------------
// main

console.log(
  `t5 bench (${shapeName}): d_model ${shape.dModel}, ${shape.layers}+${shape.layers} layers, ${shape.numHeads} heads, d_kv ${shape.dKv}, d_ff ${shape.dFf}, gated-gelu, vocab ${shape.vocab}; batch ${shape.batch}, src ${shape.src}, tgt ${shape.tgt}`,
);
console.log(`${REPS} repetitions; each is a phase of ours then a phase of PyTorch, one process each, never both alive`);
console.log(`load average at start: ${load(os.loadavg())} (${os.cpus().length} cpus)`);

let withPeer = false;
if (flag('no-peer') === undefined) {
  const why = peerProblem();
  if (why !== undefined) console.log(`PyTorch peer skipped: ${why}`);
  else withPeer = true;
}

const report: {
  date: string;
  shape: string;
  dims: typeof shape;
  reps: number;
  protocol: string;
  peer?: { threads: number; versions: string };
  backends: Record<string, { rows: RowResult[]; interference?: Interference[] } | { error: string }>;
} = {
  date: new Date().toISOString(),
  shape: shapeName,
  dims: shape,
  reps: REPS,
  protocol: 'alternating single-row phases, one process each (A B A B)',
  backends: {},
};

for (const b of BACKENDS) {
  console.log(`\n${b}`);
  const rows: RowResult[] = [];
  try {
    for (const row of ROWS) {
      const r = await measureRow(b, row, withPeer);
      if (rows.length === 0) {
        if (r.micro !== undefined && r.micro < shape.batch) console.log(`  (training step: ${shape.batch / r.micro} micro-batches of ${r.micro})`);
        console.log(`  ${'row'.padEnd(22)} ${'ours tok/s, median (min–max)'.padEnd(28)} ${'PyTorch tok/s'.padEnd(28)} ours/PyTorch`);
        if (peerInfo) console.log(`  (PyTorch peer: ${peerInfo.versions}, ${peerInfo.threads} threads)`);
      }
      rows.push(r);
      printRow(r);
    }
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] as string;
    console.log(`  unavailable or failed: ${msg}`);
    report.backends[b] = { error: msg };
    continue;
  }
  const entry: { rows: RowResult[]; interference?: Interference[] } = { rows };
  if (INTERFERENCE && withPeer) {
    entry.interference = [];
    for (const row of ROWS.filter((r) => r === 'forward' || r === 'train')) {
      const x = await interference(b, row);
      entry.interference.push(x);
      console.log(
        `  interference, ${row}: PyTorch alone ${span(x.peer.alone)} tok/s, beside an idle ${b} process ${span(x.peer.besideIdleOurs)} (the idle process used ${span(x.peer.idleCpuSeconds, 2)} CPU s meanwhile)`,
      );
      console.log(
        `  ${''.padEnd(row.length + 14)}ours alone ${span(x.ours.alone)} tok/s, beside an idle PyTorch process ${span(x.ours.besideIdlePeer)} (it used ${span(x.ours.idleCpuSeconds, 2)} CPU s); load ${x.load.map((l) => l.toFixed(2)).join(' ')}`,
      );
    }
  }
  if (PROFILE) {
    console.log(`  --profile (${b}):`);
    await runPhase(startOurs(b, 'gen16', { profile: true }));
  }
  report.backends[b] = entry;
}
if (peerInfo) report.peer = peerInfo;
console.log(`\nload average at end: ${load(os.loadavg())}`);
if (jsonFlag !== undefined) {
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (jsonFlag === true) console.log(text);
  else fs.writeFileSync(jsonFlag, text);
}
