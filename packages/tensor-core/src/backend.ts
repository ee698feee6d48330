// Backend selection. `auto` prefers native TensorFlow (GPU, then CPU), then wasm, then the pure-JS cpu
// backend. Native backends are optional peer dependencies: a missing or broken install (tfjs-node's
// install script downloads libtensorflow, which often fails) must never crash selection, so every
// attempt is a dynamic import inside try/catch and its failure reason is reported.
import * as tf from '@tensorflow/tfjs-core';
import { ensureGradients } from './gradients.js';
import { registerWasmKernels } from './kernels/index.js';

ensureGradients();

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendAttempt {
  name: string;
  ok: boolean;
  reason?: string;
}

export interface BackendReport {
  /** tfjs backend name that is now active ('tensorflow', 'wasm' or 'cpu'). */
  backend: string;
  /** What the caller asked for. */
  requested: string;
  /** Every candidate tried, in order, with why it failed. */
  tried: BackendAttempt[];
}

export interface InitBackendOptions {
  backend?: BackendChoice;
  /** Where the browser should fetch the wasm binaries from (passed to `setWasmPaths`). */
  wasmPaths?: string | Record<string, string>;
}

export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    message: string,
    readonly report?: BackendReport,
  ) {
    super(message);
  }
}

const CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

let active: BackendReport | undefined;

function describe(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}

// Each loader imports the backend package (which registers itself with tfjs-core) and activates it.
// Module specifiers are held in variables so bundlers leave the optional native packages alone.
async function loadNative(pkg: string): Promise<void> {
  const spec: string = pkg;
  await import(/* @vite-ignore */ spec);
  if (tf.findBackend('tensorflow') == null) throw new Error(`${pkg} loaded but registered no 'tensorflow' backend`);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg}: backend 'tensorflow' failed to initialise`);
}

async function loadWasm(wasmPaths?: InitBackendOptions['wasmPaths']): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (wasmPaths !== undefined) wasm.setWasmPaths(wasmPaths as string);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
  await tf.ready();
  registerWasmKernels();
}

async function loadCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
  await tf.ready();
  // The cpu backend prints an "install tfjs-node" banner on first use; the BackendReport already says
  // why a native backend was not chosen.
  const cpu = tf.backend() as unknown as { firstUse?: boolean };
  if (cpu.firstUse === true) cpu.firstUse = false;
}

type Candidate = { name: string; backend: string; load: () => Promise<void> };

function candidates(choice: BackendChoice, opts: InitBackendOptions): Candidate[] {
  const gpu: Candidate = { name: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow', load: () => loadNative('@tensorflow/tfjs-node-gpu') };
  const node: Candidate = { name: '@tensorflow/tfjs-node', backend: 'tensorflow', load: () => loadNative('@tensorflow/tfjs-node') };
  const wasm: Candidate = { name: 'wasm', backend: 'wasm', load: () => loadWasm(opts.wasmPaths) };
  const cpu: Candidate = { name: 'cpu', backend: 'cpu', load: loadCpu };
  switch (choice) {
    case 'auto':
      return [gpu, node, wasm, cpu];
    case 'tensorflow':
      return [gpu, node];
    case 'wasm':
      return [wasm];
    case 'cpu':
      return [cpu];
  }
}

/**
 * Selects and initialises the tfjs backend once per process. Calling it again with the same request
 * (or with a request the active backend satisfies) returns the first report; a different backend is an
 * error, because tensors and variables created on one backend do not move to another.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendReport> {
  const requested = opts.backend ?? 'auto';
  if (!CHOICES.includes(requested)) {
    throw new BackendError(`initBackend: unknown backend '${String(requested)}'; expected one of ${CHOICES.join(', ')}`);
  }
  if (active !== undefined) {
    if (requested === active.requested || requested === active.backend || requested === 'auto') return active;
    throw new BackendError(
      `initBackend: backend already initialised as '${active.backend}' (requested '${active.requested}'); ` +
        `cannot switch to '${requested}' in the same process`,
      active,
    );
  }
  const tried: BackendAttempt[] = [];
  for (const c of candidates(requested, opts)) {
    try {
      await c.load();
      tried.push({ name: c.name, ok: true });
      active = { backend: tf.getBackend(), requested, tried };
      return active;
    } catch (e) {
      tried.push({ name: c.name, ok: false, reason: describe(e) });
    }
  }
  const report: BackendReport = { backend: tf.getBackend() ?? 'none', requested, tried };
  throw new BackendError(
    `initBackend: no backend available for '${requested}': ` + tried.map((t) => `${t.name} (${t.reason ?? 'ok'})`).join('; '),
    report,
  );
}

/** The report of the successful `initBackend` call, if any. */
export function backendReport(): BackendReport | undefined {
  return active;
}

/**
 * Switches the active tfjs backend without the once-per-process guard (tests run the same suite on
 * several backends in one process). Not for applications: use `initBackend`.
 * @internal
 */
export async function switchBackendUnchecked(name: 'tensorflow' | 'wasm' | 'cpu'): Promise<void> {
  if (name === 'tensorflow') {
    if (tf.findBackend('tensorflow') == null) {
      const errors: string[] = [];
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        try {
          await loadNative(pkg);
          return;
        } catch (e) {
          errors.push(`${pkg}: ${describe(e)}`);
        }
      }
      throw new BackendError(`tensorflow backend unavailable: ${errors.join('; ')}`);
    }
    await tf.setBackend('tensorflow');
  } else if (name === 'wasm') {
    await loadWasm();
  } else {
    await loadCpu();
  }
}

/** Forgets the recorded `initBackend` choice. @internal (tests only) */
export function resetBackendStateForTests(): void {
  active = undefined;
}
