#!/usr/bin/env node
// The README's test command: build every package, typecheck, check the dependency direction, lint, check the formatting,
// check the published exports, run every package's tests (from source), then print one plain closing line
// `tests: N passed, N failed, N skipped`. With CI=true (or --with-tfjs-node) it also runs the
// tensor-core and t5-model suites on the tfjs-node backend when ../shared/tools/tfjs-node-offline.sh
// can build it here; without that the run still passes. Package hygiene (check-packages.mjs) and attw on every package
// (check-types.mjs) always run; with CI=true (or --with-release) the release rehearsal (tooling/release/rehearse.mjs:
// publish to a local Verdaccio, install and run each package alone) runs too, and skips with a message when the npm
// registry cannot be reached.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const withTfjsNode = process.argv.includes('--with-tfjs-node') || process.env.CI === 'true';
const withRelease = process.argv.includes('--with-release') || process.env.CI === 'true';
const pnpm = process.env.npm_execpath && /pnpm/.test(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['pnpm'];

function run(label, cmd, args, opts = {}) {
  const t0 = Date.now();
  console.log(`\n=== ${label} ===`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...opts.env } });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`=== ${label}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${secs}s ===`);
  return r.status === 0;
}

// vitest writes a JSON report per project when TAGI_VITEST_JSON is set (see tooling/vitest-config)
const reportDir = path.join(root, '.tmp', 'vitest-reports');
fs.rmSync(reportDir, { recursive: true, force: true });
fs.mkdirSync(reportDir, { recursive: true });

const failures = [];
const step = (label, cmd, args, opts) => {
  if (!run(label, cmd, args, opts)) failures.push(label);
};
step('build', pnpm[0], [...pnpm.slice(1), 'turbo', 'run', 'build']);
step('typecheck', pnpm[0], [...pnpm.slice(1), 'turbo', 'run', 'typecheck', '--concurrency=1']);
step('dependency direction', process.execPath, ['tooling/scripts/check-deps.mjs']);
step('import cycles between files, and between the folders of apps/trainer/src (check-cycles.mjs, its tests, then this repository)', process.execPath, [
  '--test',
  'tooling/scripts/check-cycles.test.mjs',
]);
step('lint', pnpm[0], [...pnpm.slice(1), 'lint']);
step('format (prettier --check: run `pnpm format` to fix)', pnpm[0], [...pnpm.slice(1), 'format:check']);
step('exports (publint)', pnpm[0], [...pnpm.slice(1), 'turbo', 'run', 'publint']);
step('package hygiene (check-packages.mjs: files, LICENSE/NOTICE, engines, peers, imports)', process.execPath, ['tooling/scripts/check-packages.mjs']);
step('types for ESM and CommonJS consumers (attw, check-types.mjs)', process.execPath, ['tooling/scripts/check-types.mjs']);
step('tests', pnpm[0], [...pnpm.slice(1), 'turbo', 'run', 'test', '--concurrency=1', '--continue'], {
  env: { TAGI_VITEST_JSON: reportDir },
});
const tfjsNodeScript = path.join(root, 'tooling', 'scripts', 'tfjs-node-suite.sh');
if (withTfjsNode && fs.existsSync(tfjsNodeScript)) {
  step('tests on the tfjs-node backend (when it can be built here)', 'bash', [tfjsNodeScript], {
    env: { TAGI_VITEST_JSON: reportDir },
  });
}

if (withRelease) {
  step('release rehearsal (publish to a local registry, install and run each package alone)', process.execPath, ['tooling/release/rehearse.mjs']);
}

let passed = 0,
  failed = 0,
  skipped = 0;
for (const f of fs.readdirSync(reportDir)) {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(reportDir, f), 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    if (r.success === false && (r.numFailedTests ?? 0) === 0) failed += 1; // a suite that failed to load
  } catch (e) {
    console.error(`unreadable test report ${f}: ${e.message}`);
    failed += 1;
  }
}
if (failures.length) console.log(`\nfailed steps: ${failures.join(', ')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failures.length || failed ? 1 : 0);
