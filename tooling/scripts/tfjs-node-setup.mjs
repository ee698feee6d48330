#!/usr/bin/env node
// Runs after `pnpm install` (root postinstall): makes the native TensorFlow backend (@tensorflow/tfjs-node, 2.5–3.8×
// faster per training token than wasm on 2 cores, measured) usable when it can be, and never fails the install.
//   1. tfjs-node is an optional dependency whose own install script downloads libtensorflow; with internet that is all.
//   2. Without internet the download fails (an optional dependency: the install goes on). If an offline build recipe is
//      present — $TAGI_TFJS_NODE_OFFLINE, or the workplace's ../shared/tools/tfjs-node-offline.sh beside the repo — it
//      builds the addon from a TensorFlow wheel on the machine (about 20–45 s).
//   3. Otherwise the wasm backend is used, and this says so in one line.
// TAGI_SKIP_TFJS_NODE=1 skips steps 2–3. `initBackend('auto')` in @tagi/tensor-core makes the same choice at run time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const say = (msg) => console.log(`tfjs-node: ${msg}`);

function loads() {
  // a fresh process: a failed require of a native addon is cached in this one
  const r = spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const firstLine = (r.stderr ?? '').split('\n').find((l) => /Error|error/.test(l)) ?? `exit ${r.status}`;
  return { ok: r.status === 0, why: firstLine.trim().slice(0, 200) };
}

function main() {
  let pkg;
  try {
    pkg = path.dirname(createRequire(path.join(root, 'package.json')).resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    say('not installed (optional dependency skipped); the wasm backend will be used');
    return;
  }
  const first = loads();
  if (first.ok) {
    say('native TensorFlow backend ready');
    return;
  }
  if (process.env.TAGI_SKIP_TFJS_NODE === '1') {
    say(`not usable (${first.why}); TAGI_SKIP_TFJS_NODE=1, so the wasm backend will be used`);
    return;
  }
  const recipe = process.env.TAGI_TFJS_NODE_OFFLINE || path.resolve(root, '..', 'shared', 'tools', 'tfjs-node-offline.sh');
  if (!fs.existsSync(recipe)) {
    say(`libtensorflow could not be downloaded and no offline recipe was found (${recipe}); the wasm backend will be used`);
    return;
  }
  say(`libtensorflow could not be downloaded; building the addon offline with ${recipe} …`);
  const b = spawnSync('bash', [recipe, fs.realpathSync(pkg)], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  if (b.status !== 0) {
    const why = b.status === 3 ? 'no TensorFlow wheel on this machine' : (b.stderr || '').trim().split('\n').slice(-1)[0] || `exit ${b.status ?? b.signal}`;
    say(`offline build not possible (${why}); the wasm backend will be used`);
    return;
  }
  const second = loads();
  say(second.ok ? 'native TensorFlow backend ready (built offline)' : `built, but it does not load (${second.why}); the wasm backend will be used`);
}

try {
  main();
} catch (e) {
  say(`setup skipped (${e instanceof Error ? e.message : String(e)}); the wasm backend will be used`);
}
