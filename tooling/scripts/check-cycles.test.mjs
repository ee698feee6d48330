// Tests of check-cycles.mjs on tiny generated workspaces (node --test), then the checks on this repository
// (file cycles everywhere, folder cycles in apps/trainer/src).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findCycles, findFolderCycles, importSpecifiers } from './check-cycles.mjs';

const script = fileURLToPath(new URL('./check-cycles.mjs', import.meta.url));
const repo = path.resolve(path.dirname(script), '..', '..');

/** A workspace with the given files ({ 'packages/a/src/x.ts': 'source' }). */
function workspace(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cycles-'));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}

test('reads every kind of import, and none in comments', () => {
  const src = [
    "import { a } from './a.js';",
    "import type { B } from './b.js';",
    "export { c } from './c.js';",
    "export * from './d.js';",
    "import './e.js';",
    "const f = await import('./f.js');",
    'import {',
    '  g,',
    "} from './g.js';",
    "// import { h } from './h.js';",
    "/* import { i } from './i.js'; */",
    "const s = 'not an import';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(src).sort(), ['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
});

test('finds cycles through type imports, re-exports and dynamic imports, per package, with a concrete path', () => {
  const root = workspace({
    'packages/a/src/index.ts': "export { x } from './x.js';\n",
    'packages/a/src/x.ts': "import type { Y } from './y.js';\nexport const x = 1;\n",
    'packages/a/src/y.ts': "import { x } from './x.js';\nexport type Y = typeof x;\n",
    'packages/a/src/z.ts': "import { x } from './x.js';\n", // depends on the cycle, not part of it
    'apps/b/src/main.ts': "export async function run() { return import('./commands/index.js'); }\n",
    'apps/b/src/commands/index.ts': "import { run } from '../main.js';\nexport const again = run;\n",
    'apps/b/src/other.ts': "import '@tagi/a';\n", // other packages are not followed
  });
  const cycles = findCycles(root);
  assert.deepEqual(
    cycles.map((c) => [c.project, c.cycle]),
    [
      ['packages/a', ['src/x.ts', 'src/y.ts', 'src/x.ts']],
      ['apps/b', ['src/commands/index.ts', 'src/main.ts', 'src/commands/index.ts']],
    ],
  );
  const r = spawnSync(process.execPath, [script, root]);
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /import cycle in packages\/a: src\/x\.ts → src\/y\.ts → src\/x\.ts/);
});

test('a longer cycle is reported whole; an acyclic workspace passes', () => {
  const root = workspace({
    'packages/c/src/a.ts': "import { b } from './b.js';\nexport const a = b;\n",
    'packages/c/src/b.ts': "import { c } from './sub/index.js';\nexport const b = c;\n",
    'packages/c/src/sub/index.ts': "import { a } from '../a.js';\nexport const c = a;\n",
  });
  assert.deepEqual(findCycles(root)[0]?.cycle, ['src/a.ts', 'src/b.ts', 'src/sub/index.ts', 'src/a.ts']);
  const clean = workspace({ 'packages/d/src/a.ts': "import { b } from './b.js';\n", 'packages/d/src/b.ts': 'export const b = 1;\n' });
  const r = spawnSync(process.execPath, [script, clean]);
  assert.equal(r.status, 0);
  assert.match(r.stdout.toString(), /no import cycles/);
});

test('finds cycles between folders of src/ (through type imports too), not counting tests, naming an import behind each step', () => {
  const files = {
    // src/ → queue/ → stages/ → src/ : no file cycle, but a folder cycle (the trainer's shape before issue 24)
    'apps/t/src/index.ts': "export { q } from './queue/jobs.js';\n",
    'apps/t/src/errors.ts': 'export class E extends Error {}\n',
    'apps/t/src/queue/jobs.ts': "import { s } from '../stages/a.js';\nexport const q = s;\n",
    'apps/t/src/stages/a.ts': "import type { E } from '../errors.js';\nexport const s = 1 as unknown as E;\n",
    // a test may drive the whole app from anywhere: no folder edge
    'apps/t/src/stages/a.test.ts': "import { q } from '../index.js';\n",
  };
  const root = workspace(files);
  assert.deepEqual(findCycles(root), []);
  const found = findFolderCycles(root, ['apps/t', 'apps/missing']);
  assert.deepEqual(
    found.map((c) => [c.project, c.cycle, c.via]),
    [
      [
        'apps/t',
        ['src/', 'src/queue/', 'src/stages/', 'src/'],
        ['src/index.ts → src/queue/jobs.ts', 'src/queue/jobs.ts → src/stages/a.ts', 'src/stages/a.ts → src/errors.ts'],
      ],
    ],
  );
  // errors.ts moved below both (a folder the others import downward): no cycle
  const { 'apps/t/src/errors.ts': errors, ...rest } = files;
  const fixed = workspace({
    ...rest,
    'apps/t/src/common/errors.ts': errors,
    'apps/t/src/stages/a.ts': "import type { E } from '../common/errors.js';\nexport const s = 1 as unknown as E;\n",
  });
  assert.deepEqual(findFolderCycles(fixed, ['apps/t']), []);
  // the command line reports folder cycles of the projects it checks (apps/trainer) and fails
  const trainerShaped = workspace(Object.fromEntries(Object.entries(files).map(([k, v]) => [k.replace('apps/t/', 'apps/trainer/'), v])));
  const r = spawnSync(process.execPath, [script, trainerShaped]);
  assert.equal(r.status, 1);
  assert.match(
    r.stderr.toString(),
    /folder cycle in apps\/trainer: src\/ → src\/queue\/ → src\/stages\/ → src\/ \(through src\/index\.ts → src\/queue\/jobs\.ts; /,
  );
  assert.match(r.stdout.toString(), /no import cycles between files\n1 folder cycle group/);
});

test('this repository has no import cycles between files', () => {
  assert.deepEqual(
    findCycles(repo).map((c) => `${c.project}: ${c.cycle.join(' → ')}`),
    [],
  );
});

test('apps/trainer/src has no import cycles between folders', () => {
  assert.deepEqual(
    findFolderCycles(repo).map((c) => `${c.project}: ${c.cycle.join(' → ')} (through ${c.via.join('; ')})`),
    [],
  );
});
