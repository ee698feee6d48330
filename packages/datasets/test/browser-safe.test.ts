// The main entry must run in a browser: no module reachable from src/index.ts may import node:*.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

function reachable(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)) {
      visit(path.resolve(path.dirname(file), (m[1] as string).replace(/\.js$/, '.ts')));
    }
  };
  visit(entry);
  return seen;
}

describe('browser safety', () => {
  it('keeps node: imports out of the main entry (they live under ./node)', () => {
    const files = reachable(path.join(src, 'index.ts'));
    expect(files.size).toBeGreaterThan(8);
    for (const [file, text] of files) {
      expect(/from\s+'node:|require\(|import\('node:/.test(text), path.relative(src, file)).toBe(false);
      expect(file.includes(`${path.sep}node${path.sep}`), path.relative(src, file)).toBe(false);
    }
  });
});
