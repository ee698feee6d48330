// Backend selection. `auto` prefers native TensorFlow (GPU, then CPU), then wasm, then the pure-JS cpu
// backend. Native backends are optional peer dependencies: a missing or broken install (tfjs-node's
// install script downloads libtensorflow, which often fails) must never crash selection, so every
// attempt is a dynamic import inside try/catch, and its failure is reported as one line that says why
// (explainNativeLoadError: the loader's message mapped to its cause, e.g. the CUDA version tfjs-node-gpu needs).
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
  /**
   * TF_CPP_MIN_LOG_LEVEL for a native backend when the environment sets none (default 2: TensorFlow's errors
   * only; its INFO/WARNING lines say nothing the report does not). The user's own TF_CPP_MIN_LOG_LEVEL wins.
   */
  nativeLogLevel?: 0 | 1 | 2 | 3;
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

// ---------------------------------------------------------------------------------------------
// why a native backend did not load, in one line

/** What @tensorflow/tfjs-node-gpu 4.22 runs on: its libtensorflow 2.9.1 GPU build. */
export const TFJS_NODE_GPU_NEEDS = 'tfjs-node-gpu 4.22 needs CUDA 11.2 + cuDNN 8.1';

/**
 * The shared libraries libtensorflow 2.9.1's GPU build opens when it starts (Linux sonames), the driver first.
 * CUDA 11.x libraries of a later minor version carry the same sonames and work; CUDA 12's do not.
 */
export const TF_GPU_LIBRARIES = [
  'libcuda.so.1',
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
] as const;

const CUDA_LIB =
  /\b(lib(?:cudart|cublasLt|cublas|cufft|curand|cusolver|cusparse|cudnn)[\w]*\.so(?:\.\d+)*|(?:cudart|cublasLt|cublas|cufft|curand|cusolver|cusparse|cudnn)64_\d+\.dll)\b/;
const NO_SUCH_LIB = /cannot open shared object file|No such file or directory|could not be found|Library not loaded/i;

/**
 * The cause of a failed native-backend load, in one line, from the loader's (or TensorFlow's) message: what is
 * missing and what to do. `pkg` is the package that failed ('@tensorflow/tfjs-node' or '@tensorflow/tfjs-node-gpu').
 * Unknown messages come back as their first line.
 */
export function explainNativeLoadError(pkg: string, message: string): string {
  const gpu = pkg.endsWith('-gpu');
  const esc = pkg.replace(/[/.-]/g, (c) => `\\${c}`);
  if (new RegExp(`Cannot find (?:package|module) '${esc}'`).test(message)) return 'not installed';
  if (/\(tfjs_binding\.node\) can not be found at path|Cannot find module '[^']*tfjs_binding\.node'/.test(message)) {
    return `installed without its native addon (its install script could not download libtensorflow); run 'npm rebuild ${pkg}' where storage.googleapis.com can be reached`;
  }
  if (/\blibcuda\.so(?:\.1)?\b/.test(message) && NO_SUCH_LIB.test(message)) return 'no NVIDIA driver: libcuda.so.1 not found (nvidia-smi must work)';
  const cuda = CUDA_LIB.exec(message);
  if (cuda && NO_SUCH_LIB.test(message))
    return `${cuda[1]} missing: ${TFJS_NODE_GPU_NEEDS} (CUDA 11 libraries on LD_LIBRARY_PATH; they may sit beside a newer CUDA)`;
  const tfLib = /\b(libtensorflow(?:_cc|_framework)?\.so(?:\.\d+)*|tensorflow\.dll)\b/.exec(message);
  if (tfLib && NO_SUCH_LIB.test(message)) {
    return `${tfLib[1]} is missing from its install (its install script could not download libtensorflow); run 'npm rebuild ${pkg}' where storage.googleapis.com can be reached`;
  }
  const glibc = /version [`']GLIBC_([\d.]+)' not found/.exec(message);
  if (glibc) return `this system's C library is older than libtensorflow needs (GLIBC_${glibc[1]})`;
  if (/CUDA_ERROR_NO_DEVICE|no CUDA-capable device is detected/.test(message))
    return 'no CUDA-capable GPU detected (check nvidia-smi and CUDA_VISIBLE_DEVICES)';
  if (/CUDA_ERROR_SYSTEM_DRIVER_MISMATCH|driver version is insufficient|CUDA_ERROR_INSUFFICIENT_DRIVER/.test(message)) {
    return `the NVIDIA driver does not match CUDA 11.2 (driver ≥ 450.80.02 needed; ${TFJS_NODE_GPU_NEEDS})`;
  }
  if (/The specified module could not be found/.test(message)) {
    return gpu
      ? `a DLL it needs was not found: ${TFJS_NODE_GPU_NEEDS} (their bin directories on PATH)`
      : 'a DLL it needs was not found (tensorflow.dll beside tfjs_binding.node)';
  }
  return describe(message).trim().slice(0, 300);
}

/** Loads a shared library by name the way the dynamic loader finds it (Node's process.dlopen); throws the loader's message. */
export type LibraryOpener = (library: string) => void;

function nodeDlopen(library: string): void {
  const proc = (globalThis as { process?: { dlopen?: (m: { exports: unknown }, f: string) => void } }).process;
  if (typeof proc?.dlopen !== 'function') throw new Error('process.dlopen is not available');
  try {
    proc.dlopen({ exports: {} }, library);
  } catch (e) {
    // the library loaded but is not a Node addon: it is there, which is all this asks
    if (/did not self-register|Module did not self-register|napi_register_module|not a valid (?:Win32|ELF)/i.test((e as Error).message)) return;
    throw e;
  }
}

/**
 * Why TensorFlow found no GPU although tfjs-node-gpu loaded (it then runs on the CPU): the first of
 * {@link TF_GPU_LIBRARIES} the dynamic loader cannot open, explained, or a generic reason when all open.
 */
export function gpuUnavailableReason(
  open: LibraryOpener = nodeDlopen,
  platform = (globalThis as { process?: { platform?: string } }).process?.platform,
): string {
  if (platform === 'linux') {
    for (const lib of TF_GPU_LIBRARIES) {
      try {
        open(lib);
      } catch (e) {
        return explainNativeLoadError('@tensorflow/tfjs-node-gpu', e instanceof Error ? e.message : String(e));
      }
    }
  }
  return `TensorFlow found no usable GPU (${TFJS_NODE_GPU_NEEDS}, a driver ≥ 450.80.02; check nvidia-smi and CUDA_VISIBLE_DEVICES)`;
}

// Each loader imports the backend package (which registers itself with tfjs-core) and activates it.
// Module specifiers are held in variables so bundlers leave the optional native packages alone.
async function loadNative(pkg: string, logLevel: number): Promise<void> {
  // read by libtensorflow when it logs: must be in the environment before the addon loads
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env !== undefined && env['TF_CPP_MIN_LOG_LEVEL'] === undefined) env['TF_CPP_MIN_LOG_LEVEL'] = String(logLevel);
  const spec: string = pkg;
  try {
    await import(/* @vite-ignore */ spec);
  } catch (e) {
    throw new Error(explainNativeLoadError(pkg, e instanceof Error ? `${e.message}${e.cause instanceof Error ? `\n${e.cause.message}` : ''}` : String(e)));
  }
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

/** A candidate's load: resolves when its backend is active, with a note when it runs degraded (tfjs-node-gpu without a GPU). */
type Candidate = { name: string; backend: string; load: () => Promise<string | void> };

/** tfjs-node-gpu loads even when TensorFlow finds no GPU (a CUDA library missing, say): it then runs on the CPU, which is said. */
async function loadGpu(logLevel: number): Promise<string | void> {
  await loadNative('@tensorflow/tfjs-node-gpu', logLevel);
  const usingGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
  if (usingGpu === false) return `no GPU: ${gpuUnavailableReason()}; its TensorFlow runs on the CPU`;
}

function candidates(choice: BackendChoice, opts: InitBackendOptions): Candidate[] {
  const level = opts.nativeLogLevel ?? 2;
  const gpu: Candidate = { name: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow', load: () => loadGpu(level) };
  const node: Candidate = { name: '@tensorflow/tfjs-node', backend: 'tensorflow', load: () => loadNative('@tensorflow/tfjs-node', level) };
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
      const degraded = await c.load();
      // a backend that runs, but not as asked for (tfjs-node-gpu on the CPU): its reason, then the fallback that is in use
      if (typeof degraded === 'string') tried.push({ name: c.name, ok: false, reason: degraded }, { name: `${c.name} (on the CPU)`, ok: true });
      else tried.push({ name: c.name, ok: true });
      active = { backend: tf.getBackend(), requested, tried };
      return active;
    } catch (e) {
      tried.push({ name: c.name, ok: false, reason: describe(e) });
    }
  }
  const report: BackendReport = { backend: tf.getBackend() ?? 'none', requested, tried };
  throw new BackendError(`initBackend: no backend available for '${requested}': ` + tried.map((t) => `${t.name} (${t.reason ?? 'ok'})`).join('; '), report);
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
          await loadNative(pkg, 2);
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
