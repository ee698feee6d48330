// The built bin as users start it (dist/server.js, the default backend): TensorFlow's C++ start-up lines, written
// when the first model loads on the tensorflow backend, never reach its output; --verbose shows them (so the
// filter, not luck, hides them where tfjs-node is built, as here).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isTensorFlowInfoLine } from '@tagi/tensor-core/native-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir } from './spawn-server.js';
import { writeSyntheticRun } from './synthetic-run.js';

const bin = path.join(appDir, 'dist', 'server.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-pg-quiet-'));
const tensorflowHere =
  spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { cwd: appDir, encoding: 'utf8', timeout: 120_000 }).status === 0;
beforeAll(async () => writeSyntheticRun(path.join(tmp, 'run')), 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Starts the bin, opens the run (the first model load: the backend starts), stops it; everything it wrote. */
async function serveOnce(extra: string[]): Promise<{ out: string; backend: string | undefined }> {
  const env = { ...process.env };
  delete env['TF_CPP_MIN_LOG_LEVEL'];
  delete env['TAGI_QUIET_CHILD'];
  const child: ChildProcess = spawn(process.execPath, [bin, '--root', tmp, '--no-default-root', '--port', '0', ...extra], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no URL within 60 s:\n${out}`)), 60_000);
      child.stdout!.on('data', () => {
        const m = /TAGI playground: (\S+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    const r = await fetch(new URL('api/open', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dir: path.join(tmp, 'run') }),
    });
    const info = (await r.json()) as { backend?: string };
    expect(r.status).toBe(200);
    return { out, backend: info.backend };
  } finally {
    child.kill('SIGTERM');
    await closed;
  }
}

describe('a quiet start (the built tagi-playground bin)', () => {
  it('no TensorFlow log line when the first model loads; --verbose shows them', async () => {
    expect(fs.existsSync(bin), `${bin} is missing: build first (pnpm build)`).toBe(true);
    const quiet = await serveOnce([]);
    expect(quiet.backend).toBe(tensorflowHere ? 'tensorflow' : 'wasm');
    expect(quiet.out.split('\n').filter(isTensorFlowInfoLine)).toEqual([]);
    expect(quiet.out).toMatch(/^TAGI playground: http/);
    if (tensorflowHere) {
      const loud = await serveOnce(['--verbose']);
      expect(loud.backend).toBe('tensorflow');
      expect(loud.out.split('\n').filter(isTensorFlowInfoLine).length).toBeGreaterThan(0);
    }
  });
});
