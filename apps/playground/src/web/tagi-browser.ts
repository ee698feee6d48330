// TAGI inside a web page: fetch a base T5 and a hypernet checkpoint over HTTP, generate the adapter of an
// instruction and run the model with it on tfjs's wasm backend, all in the page. Built for the browser
// by tsup.web.config.ts into dist/web/tagi-browser.js and served at /web/tagi-browser.js. It imports
// only the packages' main (browser-safe) entries; instructions and inputs are prepared by the same
// instruction.ts (@tagi/datasets' prepareInstruction, with the run's prompt settings the server sends)
// and models run by the same model-runner.ts the Node server uses, so the two can be compared output
// for output.
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initBackend, parseSafetensors } from '@tagi/tensor-core';
import { PrunedTokenizer, T5ForConditionalGeneration, T5Tokenizer, TIED_ALIAS_KEYS, TIED_LM_HEAD_KEY, VocabMap, parseT5Config } from '@tagi/t5-model';
import { type HyperNetwork, type TaskAdapter, restoreHypernet } from '@tagi/hypernet';
import { type PreparedRun, type RunPrompt, type TaskSource, instructionSource, prepareForRun, prepareInputs, runWarnings } from '../instruction';
import { type Logits, type RunLimits, type TextTokenizer, generateTaskAdapter, runTagi, tagiLogits } from '../model-runner';
import { type AnswerScore, scoreAnswers } from '../scoring';
import { isBlank } from '../text';

/** What GET /api/in-page?dir= answers when the page can run the dir's TAGI model. */
export interface InPageDescription {
  readonly available: true;
  readonly dir: string;
  readonly wasmPath: string;
  readonly base: {
    readonly config: string;
    readonly weights: string;
    readonly tokenizer: string;
    readonly tokenizerConfig: string | null;
    readonly vocab: string | null;
  };
  readonly hypernet: { readonly config: string; readonly weights: string };
  /** The run's prompt format and token budgets (what the server prepares with). */
  readonly prompt: RunPrompt;
  readonly limits: RunLimits;
}

/** A fault of the in-page runner, naming the URL or argument it is about. */
export class InPageError extends Error {
  constructor(
    readonly subject: string,
    readonly fault: string,
  ) {
    super(`${subject}: ${fault}`);
    this.name = 'InPageError';
  }
}

async function fetchOk(url: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new InPageError(url, `cannot fetch (${(e as Error).message})`);
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text.slice(0, 300);
    try {
      const err = (JSON.parse(text) as { error?: { message?: string } }).error;
      if (err?.message) message = err.message;
    } catch {
      // not a JSON error body: the text itself is the message
    }
    throw new InPageError(url, `HTTP ${res.status}: ${message}`);
  }
  return res;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetchOk(url)).arrayBuffer());
}

function parseJson(url: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new InPageError(url, `not valid JSON (${(e as Error).message})`);
  }
}

/**
 * An HF T5 from its config.json object and its safetensors tensors, strict (every key and shape
 * accounted for), with the alias keys HF writes for tied embeddings: what @tagi/t5-model/node's loadT5
 * does once the files are read. It lives here because the package's main entry has no loader from
 * tensors yet. Takes ownership of `tensors`.
 */
export function t5FromTensors(configJson: unknown, tensors: Map<string, tf.Tensor>, source: string): T5ForConditionalGeneration {
  try {
    const config = parseT5Config(configJson, source);
    const aliases: string[] = [...TIED_ALIAS_KEYS, ...(config.tieWordEmbeddings ? [TIED_LM_HEAD_KEY] : [])];
    if (!tensors.has('shared.weight')) {
      const alias = aliases.find((k) => tensors.has(k));
      if (alias) tensors.set('shared.weight', tf.clone(tensors.get(alias)!));
    }
    for (const k of aliases) {
      tensors.get(k)?.dispose();
      tensors.delete(k);
    }
    const model = new T5ForConditionalGeneration(config, { init: 'empty' });
    try {
      model.loadStateDict(tensors, { strict: true });
    } catch (e) {
      model.dispose();
      throw new InPageError(source, (e as Error).message);
    }
    model.eval();
    return model;
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

export interface InPageRun {
  readonly outputs: string[];
  readonly tokens: number[][];
  /** Wall time of the inputs' run, milliseconds (the adapter's generation not included). */
  readonly ms: number;
  /** Wall time of generating the adapter; 0 when the instruction's adapter was already cached. */
  readonly generateMs: number;
  readonly scores?: (AnswerScore | null)[];
  /** The ids the hypernetwork read. */
  readonly instructionIds: number[];
  /** Cuts of the instruction and the inputs (the server reports the same ones). */
  readonly warnings: string[];
}

/**
 * What the page's instruction is made from: the text, and the suite task it came from while the text is
 * that task's instruction unchanged (the server decides the same way).
 */
export type InPageSource = string | { readonly instruction: string; readonly task: TaskSource };

/** A TAGI model loaded into this page. Holds one instruction's adapter at a time (generated once, reused). */
export class InPageTagi {
  private cached: { key: string; run: PreparedRun; task: TaskAdapter } | undefined;

  constructor(
    readonly description: InPageDescription,
    private readonly base: T5ForConditionalGeneration,
    private readonly hn: HyperNetwork,
    private readonly tokenizer: TextTokenizer,
    /** The tfjs backend it runs on ('wasm'). */
    readonly backend: string,
    /** The wasm build's threads (XNNPACK's pool): > 1 only in a cross-origin isolated page. */
    readonly threads: number,
    /** Fetching, parsing and building the models, milliseconds. */
    readonly loadMs: number,
    /** Bytes fetched for the checkpoint files. */
    readonly bytes: number,
  ) {}

  /** The instruction prepared with the run's settings, from the task while its text is unchanged. */
  prepare(source: InPageSource): PreparedRun {
    const text = typeof source === 'string' ? source : source.instruction;
    if (typeof text !== 'string' || isBlank(text)) throw new InPageError('instruction', 'only whitespace or invisible characters; type some text');
    const prompt = this.description.prompt;
    try {
      return prepareForRun(instructionSource(text, typeof source === 'string' ? undefined : source.task, prompt.numPositive), prompt, this.tokenizer);
    } catch (e) {
      throw new InPageError('instruction', (e as Error).message);
    }
  }

  /** The adapter of an instruction, generated on first use; returns its generation time (0 when cached). */
  async adapter(source: InPageSource): Promise<{ task: TaskAdapter; run: PreparedRun; ms: number }> {
    const run = this.prepare(source);
    const key = `${run.prepared.origin}\u0000${run.prepared.taskId ?? ''}\u0000${run.instructionIds.join(',')}`;
    if (this.cached?.key === key) return { task: this.cached.task, run: this.cached.run, ms: 0 };
    this.cached?.task.dispose();
    this.cached = undefined;
    const { task, ms } = await generateTaskAdapter(this.hn, run.instructionIds);
    this.cached = { key, run, task };
    return { task, run, ms };
  }

  async run(source: InPageSource, inputs: readonly string[], references?: readonly (readonly string[] | null)[]): Promise<InPageRun> {
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((x) => typeof x !== 'string' || isBlank(x))) {
      throw new InPageError('inputs', 'expected one or more lines of text');
    }
    const { task, run, ms: generateMs } = await this.adapter(source);
    const ids = prepareInputs(run, inputs);
    const res = await runTagi(this.hn, task, this.tokenizer, ids.studentIds, this.description.limits);
    return {
      ...res,
      generateMs,
      instructionIds: [...task.instructionIds],
      warnings: runWarnings(run, ids),
      ...(references ? { scores: scoreAnswers(res.outputs, references) } : {}),
    };
  }

  /** Logits along given decoder rows (teacher forcing), to compare with the server's /api/logits. */
  async logits(source: InPageSource, inputs: readonly string[], decoderIds: readonly (readonly number[])[]): Promise<Logits> {
    const { task, run } = await this.adapter(source);
    return tagiLogits(this.hn, task, prepareInputs(run, inputs).studentIds, decoderIds);
  }

  dispose(): void {
    this.cached?.task.dispose();
    this.cached = undefined;
    this.hn.dispose();
    this.base.dispose();
  }
}

/** Reports loading steps to the page ("fetching model.safetensors (1.2 MB)", …). */
export type ProgressListener = (message: string) => void;

export interface LoadOptions {
  /**
   * Threads of the wasm backend; default: every core the browser reports (navigator.hardwareConcurrency).
   * More than one needs a cross-origin isolated page (SharedArrayBuffer): tfjs then loads its threaded
   * SIMD build, otherwise its one-thread SIMD build whatever this says. Fixed once the backend starts.
   */
  readonly threads?: number;
}

/** tfjs's threaded wasm build starts 8 workers and never uses more (PTHREAD_POOL_SIZE, backend.cc's cap). */
export const MAX_WASM_THREADS = 8;

/** The threads a page can give the wasm backend: its cores (at most 8) when it is cross-origin isolated, else one. */
export function availableThreads(): number {
  const isolated = typeof crossOriginIsolated === 'boolean' && crossOriginIsolated;
  const cores = typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1;
  return isolated ? Math.min(cores, MAX_WASM_THREADS) : 1;
}

/** A description of the wasm runtime for the page: '2 threads, cross-origin isolated'. */
export function describeThreads(threads: number): string {
  const isolated = typeof crossOriginIsolated === 'boolean' && crossOriginIsolated;
  return `${threads} thread${threads === 1 ? '' : 's'}, ${isolated ? 'cross-origin isolated' : 'not cross-origin isolated (one thread only)'}`;
}

/**
 * Runs `start` (the wasm backend's start) while the page reports at least 2 × `threads` cores. tfjs's wasm
 * build caps its pool at navigator.hardwareConcurrency / 2, assuming two hardware threads per core
 * (tfjs-backend-wasm src/cc/backend.cc, read once when the module starts), so on a machine without SMT —
 * this one: 2 cores, 1 thread per core — it would run one thread whatever setThreadsCount asks. The
 * browser's own value is back as soon as the backend has started.
 */
async function reportingCoresFor<T>(threads: number, start: () => Promise<T>): Promise<T> {
  if (typeof navigator === 'undefined' || threads <= 1) return start();
  const own = Object.getOwnPropertyDescriptor(navigator, 'hardwareConcurrency');
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: Math.max(2 * threads, navigator.hardwareConcurrency), configurable: true });
  try {
    return await start();
  } finally {
    if (own) Object.defineProperty(navigator, 'hardwareConcurrency', own);
    else delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

/**
 * Initialises tfjs's wasm backend (binaries from `description.wasmPath`, `options.threads` threads),
 * fetches the checkpoint files and builds the base T5, its tokenizer and the hypernet, checked as
 * strictly as the Node loaders do.
 */
export async function loadInPage(description: InPageDescription, onProgress: ProgressListener = () => {}, options: LoadOptions = {}): Promise<InPageTagi> {
  const start = performance.now();
  const threads = options.threads ?? availableThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new InPageError('threads', `expected a whole number ≥ 1, got ${threads}`);
  onProgress('starting the wasm backend');
  setThreadsCount(threads);
  const report = await reportingCoresFor(threads, () => initBackend({ backend: 'wasm', wasmPaths: description.wasmPath }));
  const { base: b, hypernet: h } = description;
  let bytes = 0;
  const getBytes = async (url: string): Promise<Uint8Array> => {
    const data = await fetchBytes(url);
    bytes += data.byteLength;
    return data;
  };
  const getJson = async (url: string): Promise<unknown> => parseJson(url, await getBytes(url));
  onProgress('fetching the configs and the tokenizer');
  const [configJson, tokenizerJson, tokenizerConfig, vocabJson, hnConfig] = await Promise.all([
    getJson(b.config),
    getJson(b.tokenizer),
    b.tokenizerConfig ? getJson(b.tokenizerConfig) : Promise.resolve({}),
    b.vocab ? getJson(b.vocab) : Promise.resolve(undefined),
    getJson(h.config),
  ]);
  const full = new T5Tokenizer(tokenizerJson as object, tokenizerConfig as object);
  const tokenizer: TextTokenizer = vocabJson === undefined ? full : new PrunedTokenizer(full, VocabMap.fromJson(vocabJson, b.vocab ?? 'pruned_vocab.json'));
  onProgress('fetching the base model weights');
  const baseBytes = await getBytes(b.weights);
  onProgress('building the base model');
  const base = t5FromTensors(configJson, parseSafetensors(baseBytes, b.weights).tensors, b.config);
  let hn: HyperNetwork;
  try {
    onProgress('fetching the hypernet weights');
    const { tensors } = parseSafetensors(await getBytes(h.weights), h.weights);
    onProgress('building the hypernet');
    try {
      hn = restoreHypernet(base, hnConfig, tensors, { source: h.config });
    } finally {
      tf.dispose([...tensors.values()]);
    }
  } catch (e) {
    base.dispose();
    throw e;
  }
  onProgress('ready');
  return new InPageTagi(description, base, hn, tokenizer, report.backend, getThreadsCount(), performance.now() - start, bytes);
}
