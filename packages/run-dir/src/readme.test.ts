// The README's usage block runs against this source and prints what its comments say.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import * as runDir from './node.js';

it('README usage block runs and prints what it says', async () => {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const block = /^## Usage[\s\S]*?^```js\n([\s\S]*?)^```/m.exec(readme)?.[1];
  expect(block).toBeDefined();
  // the block's imports become parameters: node built-ins as themselves, the package as this source
  const fs = await import('node:fs');
  const os = await import('node:os');
  const body = block!
    .replace("import { mkdtempSync, readFileSync } from 'node:fs';", 'const { mkdtempSync, readFileSync } = fs;')
    .replace("import os from 'node:os';", '')
    .replace("import path from 'node:path';", '')
    .replace(/import (\{[^}]*\}) from '@tagi\/run-dir\/node';/, 'const $1 = runDir;');
  expect(body).not.toMatch(/^import /m);
  const printed: unknown[][] = [];
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction('fs', 'os', 'path', 'runDir', 'console', body)(fs, os.default, path, runDir, { log: (...a: unknown[]) => printed.push(a) });
  expect(printed).toEqual([[['base-model']], [true]]);
});
