// Tests of check-cycles.mjs on tiny generated workspaces (node --test), then the check on this repository.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findCycles, importSpecifiers } from './check-cycles.mjs';

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

test('this repository has no import cycles between files', () => {
  assert.deepEqual(findCycles(repo).map((c) => `${c.project}: ${c.cycle.join(' → ')}`), []);
});
