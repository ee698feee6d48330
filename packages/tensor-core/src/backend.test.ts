import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, type LibraryOpener, explainNativeLoadError, gpuUnavailableReason, initBackend, resetBackendStateForTests } from './backend.js';

afterEach(() => resetBackendStateForTests());

describe('initBackend', () => {
  it('rejects an unknown backend name, naming the choices', async () => {
    await expect(initBackend({ backend: 'webgpu' as never })).rejects.toThrow(/unknown backend 'webgpu'.*auto, tensorflow, wasm, cpu/);
  });

  it('selects cpu when asked and reports the attempt', async () => {
    const report = await initBackend({ backend: 'cpu' });
    expect(report).toEqual({ backend: 'cpu', requested: 'cpu', tried: [{ name: 'cpu', ok: true }] });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('is a no-op for the same backend and an error for a different one', async () => {
    const first = await initBackend({ backend: 'cpu' });
    await expect(initBackend({ backend: 'cpu' })).resolves.toBe(first);
    const err = await initBackend({ backend: 'wasm' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/already initialised as 'cpu'.*cannot switch to 'wasm'/);
  });

  it('auto tries tfjs-node-gpu, tfjs-node, wasm, cpu in order and stops at the first that works', async () => {
    const report = await initBackend({ backend: 'auto' });
    const order = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'wasm', 'cpu'];
    expect(report.tried.map((t) => t.name)).toEqual(order.slice(0, report.tried.length));
    const last = report.tried[report.tried.length - 1];
    expect(last?.ok).toBe(true);
    for (const t of report.tried.slice(0, -1)) {
      expect(t.ok).toBe(false);
      expect(t.reason).toMatch(/\S/); // a failed attempt always says why
    }
    expect(report.backend).toBe(tf.getBackend());
    expect(['tensorflow', 'wasm', 'cpu']).toContain(report.backend);
  });

  it("'tensorflow' fails with a report when no native binding is usable, or selects it", async () => {
    const result = await initBackend({ backend: 'tensorflow' }).catch((e: unknown) => e);
    if (result instanceof BackendError) {
      expect(result.report?.tried.map((t) => t.name)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
      expect(result.message).toMatch(/no backend available for 'tensorflow'/);
    } else {
      expect((result as { backend: string }).backend).toBe('tensorflow');
    }
  });
});

// Messages as the loaders print them: Node's dlopen (ERR_DLOPEN_FAILED), tfjs-node's own check for its addon, Node's
// module resolution, and TensorFlow 2.9's dso_loader warnings (quoted from tfjs issues #8362, #8269, #8187).
const LOADER_MESSAGES: [pkg: string, message: string, expected: RegExp][] = [
  [
    '@tensorflow/tfjs-node-gpu',
    "Cannot find package '@tensorflow/tfjs-node-gpu' imported from /work/packages/tensor-core/dist/chunk-CZAPEU6Q.js",
    /^not installed$/,
  ],
  ['@tensorflow/tfjs-node', "Cannot find module '@tensorflow/tfjs-node'\nRequire stack:\n- /tmp/b/[eval]", /^not installed$/],
  [
    '@tensorflow/tfjs-node',
    "The Node.js native addon module (tfjs_binding.node) can not be found at path: /tmp/a/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node. \nPlease run command 'npm rebuild @tensorflow/tfjs-node --build-addon-from-source' to rebuild the native addon module. \nIf you have problem with building the addon module, please check https://github.com/tensorflow/tfjs/blob/master/tfjs-node/WINDOWS_TROUBLESHOOTING.md or file an issue.",
    /^installed without its native addon \(its install script could not download libtensorflow\); run 'npm rebuild @tensorflow\/tfjs-node' where storage\.googleapis\.com can be reached$/,
  ],
  [
    '@tensorflow/tfjs-node',
    'libtensorflow_cc.so.2: cannot open shared object file: No such file or directory',
    /^libtensorflow_cc\.so\.2 is missing from its install .*npm rebuild @tensorflow\/tfjs-node'/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    'libtensorflow.so.2: cannot open shared object file: No such file or directory',
    /^libtensorflow\.so\.2 is missing from its install .*npm rebuild @tensorflow\/tfjs-node-gpu'/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    'libcudart.so.11.0: cannot open shared object file: No such file or directory',
    /^libcudart\.so\.11\.0 missing: tfjs-node-gpu 4\.22 needs CUDA 11\.2 \+ cuDNN 8\.1 \(CUDA 11 libraries on LD_LIBRARY_PATH; they may sit beside a newer CUDA\)$/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    "2024-08-24 22:24:04.039287: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file: No such file or directory; LD_LIBRARY_PATH: /usr/local/cuda:/usr/local/cuda/lib64:",
    /^libcudart\.so\.11\.0 missing: tfjs-node-gpu 4\.22 needs CUDA 11\.2 \+ cuDNN 8\.1/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    "2024-05-06 00:05:33.767399: W tensorflow/stream_executor/platform/default/dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.8'; dlerror: libcudnn.so.8: cannot open shared object file: No such file or directory",
    /^libcudnn\.so\.8 missing: tfjs-node-gpu 4\.22 needs CUDA 11\.2 \+ cuDNN 8\.1/,
  ],
  ['@tensorflow/tfjs-node-gpu', 'libcublasLt.so.11: cannot open shared object file: No such file or directory', /^libcublasLt\.so\.11 missing: /],
  [
    '@tensorflow/tfjs-node-gpu',
    'libcuda.so.1: cannot open shared object file: No such file or directory',
    /^no NVIDIA driver: libcuda\.so\.1 not found \(nvidia-smi must work\)$/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    'Error: libcublas.so.9.0: cannot open shared object file: No such file or directory',
    /^libcublas\.so\.9\.0 missing: tfjs-node-gpu 4\.22 needs CUDA 11\.2/,
  ],
  [
    '@tensorflow/tfjs-node',
    "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.29' not found (required by /x/node_modules/@tensorflow/tfjs-node/deps/lib/libtensorflow.so.2)",
    /^this system's C library is older than libtensorflow needs \(GLIBC_2\.29\)$/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    'E tensorflow/stream_executor/cuda/cuda_driver.cc:271] failed call to cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected',
    /^no CUDA-capable GPU detected/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    'failed call to cuInit: CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: system has unsupported display driver / cuda driver combination',
    /^the NVIDIA driver does not match CUDA 11\.2/,
  ],
  [
    '@tensorflow/tfjs-node-gpu',
    'The specified module could not be found.\n\\\\?\\D:\\nodejs\\node_modules\\@tensorflow\\tfjs-node-gpu\\lib\\napi-v5\\tfjs_binding.node',
    /^a DLL it needs was not found: tfjs-node-gpu 4\.22 needs CUDA 11\.2 \+ cuDNN 8\.1/,
  ],
  ['@tensorflow/tfjs-node', 'something else entirely\nsecond line', /^something else entirely$/],
];

describe('explainNativeLoadError: the loader message → one line of cause and remedy', () => {
  it.each(LOADER_MESSAGES)('%s: %s', (pkg, message, expected) => {
    const line = explainNativeLoadError(pkg, message);
    expect(line).toMatch(expected);
    expect(line).not.toContain('\n');
  });

  it('names the first CUDA library the real loader cannot open (here: the driver stands in with libc, the CUDA 11 runtime is absent)', () => {
    const opened: string[] = [];
    const open: LibraryOpener = (lib) => {
      opened.push(lib);
      try {
        process.dlopen({ exports: {} }, lib === 'libcuda.so.1' ? 'libc.so.6' : lib);
      } catch (e) {
        if (/did not self-register/.test((e as Error).message)) return; // loaded, not an addon: present (as the default opener reads it)
        throw e;
      }
    };
    expect(gpuUnavailableReason(open, 'linux')).toMatch(/^libcudart\.so\.11\.0 missing: tfjs-node-gpu 4\.22 needs CUDA 11\.2 \+ cuDNN 8\.1/);
    expect(opened).toEqual(['libcuda.so.1', 'libcudart.so.11.0']);
    // the default opener on this GPU-less machine stops at the driver or the runtime, with a reason either way
    expect(gpuUnavailableReason()).toMatch(/^(no NVIDIA driver: libcuda\.so\.1 not found|libcudart\.so\.11\.0 missing|TensorFlow found no usable GPU)/);
  });

  it('says so when every CUDA library opens but TensorFlow still found no GPU, and off Linux', () => {
    expect(gpuUnavailableReason(() => undefined, 'linux')).toMatch(/^TensorFlow found no usable GPU \(tfjs-node-gpu 4\.22 needs CUDA 11\.2 \+ cuDNN 8\.1/);
    expect(
      gpuUnavailableReason(() => {
        throw new Error('never called');
      }, 'win32'),
    ).toMatch(/^TensorFlow found no usable GPU/);
  });

  it("reports a missing GPU package as 'not installed' in the attempt list", async () => {
    const report = await initBackend({ backend: 'auto' });
    const gpu = report.tried[0];
    expect(gpu?.name).toBe('@tensorflow/tfjs-node-gpu');
    // this workplace has no tfjs-node-gpu; where it is installed the attempt either worked or says why in one line
    if (gpu?.ok === false) expect(gpu.reason).not.toContain('\n');
  });
});
