// Greedy and beam-search generation with a KV cache (self-attention keys/values grow per step,
// cross-attention keys/values are projected once), and sequence scoring for rank classification.
import * as tf from '@tensorflow/tfjs-core';
import type { DeltaMap, LowRankDelta } from '@tagi/tensor-core';
import { labelLogProbs } from './loss.js';
import { T5InputError, type CrossContext, type EncoderLayerHook, type EncoderPrefix, type KV, type Seq2SeqLM } from './types.js';

export interface GenerateOptions {
  /** Tokens to generate after the decoder start id (default 20). */
  maxNewTokens?: number;
  /** 1 = greedy (default). */
  numBeams?: number;
  /** Beam score = sum log p / (generated length ** lengthPenalty), as HF (default 1). */
  lengthPenalty?: number;
  /** HF semantics: true stops a row once numBeams hypotheses finished; false (default) when no running beam can beat the worst finished one; 'never' uses the maximal length in that bound. */
  earlyStopping?: boolean | 'never';
  /** Default: the model config's ids. */
  eosTokenId?: number;
  padTokenId?: number;
  decoderStartTokenId?: number;
  /** Reuse self-attention keys/values across steps (default true); results are identical either way. */
  useCache?: boolean;
  adapters?: DeltaMap;
  encoderPrefix?: EncoderPrefix;
  /** Run after every encoder block; the input is encoded once, so the hook runs once per block. */
  encoderLayerHook?: EncoderLayerHook;
}

export interface GenerateResult {
  /** [batch][1 + generated], starting with the decoder start id; finished rows padded with pad. */
  sequences: number[][];
  /** Greedy only: scores[step][row] = next-token logits at that step. */
  scores?: Float32Array[][];
}

/** Repeat every row of a batched tensor n times along axis 0 ([b, ...] → [b·n, ...], row-major). */
function repeatRows(t: tf.Tensor, n: number): tf.Tensor {
  if (n === 1) return tf.clone(t);
  const b = t.shape[0] as number;
  const idx = new Int32Array(b * n);
  for (let i = 0; i < b * n; i++) idx[i] = Math.floor(i / n);
  return tf.tidy(() => tf.gather(t, tf.tensor1d(idx, 'int32'), 0)); // tidy: the index tensor goes too (callers outside a scope leaked it)
}

/**
 * Deltas for every row repeated n times: per-example factors are repeated with their rows; per-group ones
 * (fewer groups than examples) stay as they are, since repeating rows keeps each group's rows consecutive.
 */
function expandAdapters(adapters: DeltaMap | undefined, n: number, batch: number): { map: DeltaMap | undefined; owned: tf.Tensor[] } {
  if (!adapters || n === 1) return { map: adapters, owned: [] };
  const owned: tf.Tensor[] = [];
  const map = new Map<string, LowRankDelta>();
  for (const [k, d] of adapters) {
    if (d.A.rank === 3 && d.A.shape[0] === batch) {
      const A = repeatRows(d.A, n);
      const B = repeatRows(d.B, n);
      owned.push(A, B);
      map.set(k, { A, B, scaling: d.scaling });
    } else map.set(k, d);
  }
  return { map, owned };
}

function disposeKV(kvs: KV[] | undefined): void {
  if (!kvs) return;
  for (const kv of kvs) tf.dispose([kv.k, kv.v]);
}

interface Prepared {
  cross: CrossContext;
  adapters: DeltaMap | undefined;
  /** Decoder self-attention bias (position bias + causal mask) for every step: [1, heads, maxNewTokens, maxNewTokens]. */
  selfBias: tf.Tensor4D;
  owned: tf.Tensor[];
}

/**
 * Encode once, expand to numBeams rows per input, project cross-attention keys/values once, and compute the
 * decoder's position bias once for all steps (each step slices its row instead of recomputing it).
 */
function prepare(model: Seq2SeqLM, inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D | undefined, opts: GenerateOptions, n: number, steps: number): Prepared {
  const { map, owned } = expandAdapters(opts.adapters, n, inputIds.shape[0]);
  try {
    const cross = tf.tidy(() => {
      const enc = model.encode(inputIds, attentionMask, opts.adapters, undefined, opts.encoderLayerHook);
      const mask = attentionMask ?? tf.onesLike(inputIds);
      const prefix = opts.encoderPrefix
        ? { states: repeatRows(opts.encoderPrefix.states, n) as tf.Tensor3D, mask: repeatRows(opts.encoderPrefix.mask, n) as tf.Tensor2D }
        : undefined;
      const c = model.crossContext(repeatRows(enc, n) as tf.Tensor3D, repeatRows(mask, n) as tf.Tensor2D, map, prefix);
      return [c.mask, ...c.kv.flatMap((kv) => [kv.k, kv.v])];
    });
    const [mask, ...rest] = cross as [tf.Tensor4D, ...tf.Tensor4D[]];
    owned.push(...cross);
    const kv: KV[] = [];
    for (let i = 0; i < rest.length; i += 2) kv.push({ k: rest[i] as tf.Tensor4D, v: rest[i + 1] as tf.Tensor4D });
    const selfBias = model.decoderSelfBias(steps);
    owned.push(selfBias);
    return { cross: { mask, kv }, adapters: map, selfBias, owned };
  } catch (e) {
    tf.dispose(owned);
    throw e;
  }
}

function disposePrepared(p: Prepared): void {
  tf.dispose(p.owned); // cross-attention context, bias table, expanded adapters
}

/**
 * One decoder step: returns next-token logits [rows, vocab] and (with a cache) the grown cache.
 * Without a cache the whole prefix is re-run.
 */
function step(model: Seq2SeqLM, prefixes: number[][], prep: Prepared, cache: KV[] | undefined, useCache: boolean): { logits: tf.Tensor2D; cache?: KV[] } {
  const res = tf.tidy(() => {
    const rows = prefixes.length;
    const len = (prefixes[0] as number[]).length;
    const heads = prep.selfBias.shape[1];
    const ids = useCache
      ? tf.tensor2d(
          prefixes.map((p) => p[p.length - 1] as number),
          [rows, 1],
          'int32',
        ) // [rows, 1]
      : tf.tensor2d(prefixes.flat(), [rows, len], 'int32'); // [rows, len]
    const bias = useCache
      ? tf.slice(prep.selfBias, [0, 0, len - 1, 0], [1, heads, 1, len]) // [1, heads, 1, len]: the newest position's row
      : tf.slice(prep.selfBias, [0, 0, 0, 0], [1, heads, len, len]); // [1, heads, len, len]
    const out = model.decode(ids, prep.cross, prep.adapters, useCache ? cache : undefined, bias as tf.Tensor4D);
    const t = out.hidden.shape[1];
    const last = tf.slice(out.hidden, [0, t - 1, 0], [rows, 1, -1]) as tf.Tensor3D; // [rows, 1, dModel]
    const logits = tf.reshape(model.lmHead(last, prep.adapters), [rows, -1]) as tf.Tensor2D; // [rows, vocab]
    return { logits, kv: useCache ? out.cache.flatMap((kv) => [kv.k, kv.v]) : [] };
  });
  if (!useCache) return { logits: res.logits };
  const kv: KV[] = [];
  for (let i = 0; i < res.kv.length; i += 2) kv.push({ k: res.kv[i] as tf.Tensor4D, v: res.kv[i + 1] as tf.Tensor4D });
  return { logits: res.logits, cache: kv };
}

function checkOptions(model: Seq2SeqLM, inputIds: tf.Tensor2D, opts: GenerateOptions) {
  const c = model.config;
  const maxNewTokens = opts.maxNewTokens ?? 20;
  const numBeams = opts.numBeams ?? 1;
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new T5InputError(`maxNewTokens: expected an integer >= 1, got ${maxNewTokens}`);
  if (!Number.isInteger(numBeams) || numBeams < 1) throw new T5InputError(`numBeams: expected an integer >= 1, got ${numBeams}`);
  // generation reads every step's result anyway: one more read validates the ids at this boundary
  model.checkIds(inputIds, 'inputIds');
  return {
    maxNewTokens,
    numBeams,
    lengthPenalty: opts.lengthPenalty ?? 1,
    earlyStopping: opts.earlyStopping ?? false,
    eos: opts.eosTokenId ?? c.eosTokenId,
    pad: opts.padTokenId ?? c.padTokenId,
    start: opts.decoderStartTokenId ?? c.decoderStartTokenId,
    useCache: opts.useCache ?? true,
  };
}

/** Greedy or beam search. Leak-free; sequences include the decoder start id. */
export async function generate(
  model: Seq2SeqLM,
  inputIds: tf.Tensor2D,
  attentionMask: tf.Tensor2D | undefined,
  opts: GenerateOptions & { outputScores?: boolean } = {},
): Promise<GenerateResult> {
  const o = checkOptions(model, inputIds, opts);
  const wasTraining = model.training;
  if (wasTraining) model.eval();
  try {
    return o.numBeams === 1 ? await greedy(model, inputIds, attentionMask, opts, o) : await beam(model, inputIds, attentionMask, opts, o);
  } finally {
    if (wasTraining) model.train();
  }
}

async function greedy(
  model: Seq2SeqLM,
  inputIds: tf.Tensor2D,
  attentionMask: tf.Tensor2D | undefined,
  opts: GenerateOptions & { outputScores?: boolean },
  o: ReturnType<typeof checkOptions>,
): Promise<GenerateResult> {
  const b = inputIds.shape[0];
  const prep = prepare(model, inputIds, attentionMask, opts, 1, o.maxNewTokens);
  const seqs: number[][] = Array.from({ length: b }, () => [o.start]);
  const finished = new Array<boolean>(b).fill(false);
  const scores: Float32Array[][] = [];
  let cache: KV[] | undefined;
  try {
    for (let s = 0; s < o.maxNewTokens; s++) {
      const r = step(model, seqs, prep, cache, o.useCache);
      disposeKV(cache);
      cache = r.cache;
      // the argmax runs where the logits are: a step reads back `rows` ids, not rows × vocab floats
      const best = tf.tidy(() => tf.argMax(r.logits, 1)); // [rows] int32
      if (opts.outputScores) {
        const data = (await r.logits.data()) as Float32Array;
        const v = r.logits.shape[1];
        scores.push(Array.from({ length: b }, (_, i) => data.slice(i * v, (i + 1) * v)));
      }
      r.logits.dispose();
      const ids = await best.data();
      best.dispose();
      for (let i = 0; i < b; i++) {
        let tok = o.pad;
        if (!finished[i]) {
          tok = ids[i] as number;
          if (tok === o.eos) finished[i] = true;
        }
        (seqs[i] as number[]).push(tok);
      }
      if (finished.every(Boolean)) break;
    }
  } finally {
    disposeKV(cache);
    disposePrepared(prep);
  }
  return opts.outputScores ? { sequences: seqs, scores } : { sequences: seqs };
}

interface Hyp {
  tokens: number[];
  score: number;
}

/** HF beam search (no sampling): per row 2·numBeams candidates per step, eos candidates ranked in the top numBeams finish. */
async function beam(
  model: Seq2SeqLM,
  inputIds: tf.Tensor2D,
  attentionMask: tf.Tensor2D | undefined,
  opts: GenerateOptions,
  o: ReturnType<typeof checkOptions>,
): Promise<GenerateResult> {
  const b = inputIds.shape[0];
  const nb = o.numBeams;
  const prep = prepare(model, inputIds, attentionMask, opts, nb, o.maxNewTokens);
  let seqs: number[][] = Array.from({ length: b * nb }, () => [o.start]);
  // only the first beam is live at the start, so the first step does not pick the same token nb times
  let beamScores: number[] = Array.from({ length: b * nb }, (_, i) => (i % nb === 0 ? 0 : -1e9));
  const hyps: Hyp[][] = Array.from({ length: b }, () => []);
  const done = new Array<boolean>(b).fill(false);
  const lp = o.lengthPenalty;
  const addHyp = (i: number, h: Hyp) => {
    const list = hyps[i] as Hyp[];
    if (list.length < nb || h.score > (list[list.length - 1] as Hyp).score) {
      list.push(h);
      list.sort((x, y) => y.score - x.score);
      if (list.length > nb) list.pop();
    }
  };
  let cache: KV[] | undefined;
  try {
    for (let s = 0; s < o.maxNewTokens; s++) {
      const genLen = s + 1; // tokens generated once this step's token is appended
      const r = step(model, seqs, prep, cache, o.useCache);
      const lsm = tf.tidy(() => tf.logSoftmax(r.logits));
      r.logits.dispose();
      const data = (await lsm.data()) as Float32Array;
      const v = lsm.shape[1] as number;
      lsm.dispose();
      const nextSeqs: number[][] = [];
      const nextScores: number[] = [];
      const origin: number[] = [];
      for (let i = 0; i < b; i++) {
        if (done[i]) {
          for (let j = 0; j < nb; j++) {
            nextSeqs.push([...(seqs[i * nb + j] as number[]), o.pad]);
            nextScores.push(0);
            origin.push(i * nb + j);
          }
          continue;
        }
        // top 2·nb of every beam, then of their union: the global top 2·nb is inside it
        const cands: { score: number; beam: number; tok: number }[] = [];
        for (let j = 0; j < nb; j++) {
          const row = i * nb + j;
          const base = beamScores[row] as number;
          const top: { score: number; tok: number }[] = [];
          for (let t = 0; t < v; t++) {
            const sc = base + (data[row * v + t] as number);
            if (top.length < 2 * nb || sc > (top[top.length - 1] as { score: number }).score) {
              top.push({ score: sc, tok: t });
              top.sort((x, y) => y.score - x.score || x.tok - y.tok);
              if (top.length > 2 * nb) top.pop();
            }
          }
          for (const c of top) cands.push({ score: c.score, beam: j, tok: c.tok });
        }
        cands.sort((x, y) => y.score - x.score || x.beam - y.beam || x.tok - y.tok);
        const chosen = cands.slice(0, 2 * nb);
        const lastStep = s === o.maxNewTokens - 1;
        // only the top numBeams candidates may finish: on eos, or on any token at the length limit
        for (let rank = 0; rank < nb; rank++) {
          const c = chosen[rank] as { score: number; beam: number; tok: number };
          if (c.tok === o.eos || lastStep) addHyp(i, { tokens: [...(seqs[i * nb + c.beam] as number[]), c.tok], score: c.score / genLen ** lp });
        }
        // the best numBeams candidates that did not finish keep running
        let kept = 0;
        for (const c of chosen) {
          if (kept === nb) break;
          if (c.tok === o.eos) continue;
          nextSeqs.push([...(seqs[i * nb + c.beam] as number[]), c.tok]);
          nextScores.push(c.score);
          origin.push(i * nb + c.beam);
          kept++;
        }
        // HF's stopping rule for the row: numBeams hypotheses finished and (earlyStopping true, or no running
        // beam can still beat the worst of them under the length-penalty heuristic)
        const list = hyps[i] as Hyp[];
        if (list.length >= nb) {
          const bestRunning = Math.max(...nextScores.slice(-nb));
          const denom = o.earlyStopping === 'never' && lp > 0 ? o.maxNewTokens : genLen;
          if (o.earlyStopping === true || (list[list.length - 1] as Hyp).score >= bestRunning / denom ** lp) done[i] = true;
        }
      }
      // reorder the self-attention cache to follow the surviving beams
      if (r.cache) {
        const idx = tf.tensor1d(origin, 'int32');
        const reordered = r.cache.map((kv) => ({ k: tf.gather(kv.k, idx, 0), v: tf.gather(kv.v, idx, 0) }));
        idx.dispose();
        disposeKV(r.cache);
        disposeKV(cache);
        cache = reordered;
      } else disposeKV(cache);
      seqs = nextSeqs;
      beamScores = nextScores;
      if (done.every(Boolean)) break;
    }
  } finally {
    disposeKV(cache);
    disposePrepared(prep);
  }
  const out = hyps.map((list) => (list[0] as Hyp).tokens);
  const width = Math.max(...out.map((r) => r.length));
  // HF fills after eos with `pad_token_id or eos_token_id`: a pad id of 0 (T5's) falls through to eos
  const fill = o.pad || o.eos;
  return { sequences: out.map((r) => [...r, ...new Array<number>(width - r.length).fill(fill)]) };
}

export interface ScoreResult {
  /** Sum of log p(target token) over non-ignored positions, per row. */
  sum: number[];
  /** sum / number of scored tokens. */
  mean: number[];
  /** Number of scored tokens per row. */
  tokens: number[];
}

/**
 * Log-likelihood of each target row given its input row (rank classification): labels [batch, tgtLen]
 * with -100 at padding. Leak-free.
 */
export interface ScoreArgs {
  inputIds: tf.Tensor2D; // int32 [batch, srcLen]
  attentionMask?: tf.Tensor2D; // [batch, srcLen]
  labels: tf.Tensor2D; // int32 [batch, tgtLen], -100 at padding
  adapters?: DeltaMap;
  encoderPrefix?: EncoderPrefix;
  encoderOutputs?: tf.Tensor3D; // [batch, srcLen, dModel]
}

export async function scoreTargets(model: Seq2SeqLM, args: ScoreArgs): Promise<ScoreResult> {
  model.checkIds(args.inputIds, 'inputIds');
  model.checkIds(args.labels, 'labels', true);
  const wasTraining = model.training;
  if (wasTraining) model.eval();
  try {
    const [sumT, countT] = tf.tidy(() => {
      const out = model.forward(args);
      const { logp, mask } = labelLogProbs(out.logits, args.labels);
      return [tf.sum(logp, 1), tf.sum(mask, 1)];
    });
    const sum = Array.from(await sumT.data(), Number);
    const tokens = Array.from(await countT.data(), Number);
    tf.dispose([sumT, countT]);
    return { sum, mean: sum.map((s, i) => s / Math.max(1, tokens[i] as number)), tokens };
  } finally {
    if (wasTraining) model.train();
  }
}
