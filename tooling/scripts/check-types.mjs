#!/usr/bin/env node
// Are the types wrong? @arethetypeswrong/cli (attw, a devDependency of tooling/release) on every published package,
// packed as npm would publish it, with the node16 profile: every subpath must resolve to matching types and JavaScript
// for ESM and CommonJS consumers (`moduleResolution` node16 and bundler; node10 is not a target, engines say >= 20).
// Run after `pnpm build`. Prints one line per package (the full attw table for a failing one); exit 1 on any problem.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const attw = path.join(root, 'tooling', 'release', 'node_modules', '.bin', 'attw');
if (!fs.existsSync(attw)) {
  console.error(`check-types: ${path.relative(root, attw)} is missing (pnpm install)`);
  process.exit(1);
}
const packages = fs
  .readdirSync(path.join(root, 'packages'))
  .sort()
  .map((p) => path.join(root, 'packages', p))
  .filter((dir) => !JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).private);

function check(dir) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(attw, ['--pack', dir, '--profile', 'node16', '--format', 'ascii'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ dir, ok: code === 0, out, seconds: (performance.now() - t0) / 1000 }));
  });
}

// two at a time: most of the time is `npm pack` and TypeScript's resolver, and the CI machine has two cores
const results = [];
const queue = [...packages];
await Promise.all(
  [0, 1].map(async () => {
    for (let dir = queue.shift(); dir !== undefined; dir = queue.shift()) results.push(await check(dir));
  }),
);
results.sort((a, b) => a.dir.localeCompare(b.dir));
for (const r of results) {
  console.log(`check-types: ${path.relative(root, r.dir)}: ${r.ok ? 'ok' : 'PROBLEMS'} (${r.seconds.toFixed(1)} s)`);
  if (!r.ok) console.log(r.out);
}
const bad = results.filter((r) => !r.ok).length;
console.log(bad === 0 ? `check-types: attw finds no problem in ${results.length} packages` : `check-types: ${bad} package(s) with problems`);
process.exit(bad === 0 ? 0 : 1);
