import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from './json-file.js';
import { stableJson } from './stable-json.js';

describe('stableJson', () => {
  it('sorts keys at every depth (inside lists too), 2 spaces, trailing newline', () => {
    const text = stableJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } });
    expect(text).toBe('{\n  "a": {\n    "c": null,\n    "d": [\n      {\n        "y": 2,\n        "z": 1\n      }\n    ]\n  },\n  "b": 1\n}\n');
  });

  it('is a fixed point: parsing and writing again gives the same text, whatever the input key order', () => {
    const a = stableJson({ x: { q: 1, p: [3, { n: 1, m: 2 }] }, w: 'v' });
    expect(stableJson(JSON.parse(a))).toBe(a);
    expect(stableJson({ w: 'v', x: { p: [3, { m: 2, n: 1 }], q: 1 } })).toBe(a);
  });

  it('keeps the insertion order of the objects named in keepOrder, and sorts their values', () => {
    const v = { stages: { teachers: { z: 1, a: 2 }, base: {} }, command: 'demo' };
    const back = JSON.parse(stableJson(v, { keepOrder: ['stages'] })) as typeof v;
    expect(Object.keys(back)).toEqual(['command', 'stages']);
    expect(Object.keys(back.stages)).toEqual(['teachers', 'base']);
    expect(Object.keys(back.stages.teachers)).toEqual(['a', 'z']);
    // a path names one place: the same key deeper down is sorted
    expect(Object.keys(JSON.parse(stableJson({ x: { stages: { b: 1, a: 2 } } }, { keepOrder: ['stages'] })).x.stages)).toEqual(['a', 'b']);
  });
});

describe('writeFileAtomic', () => {
  it('writes the whole file and leaves no temporary file behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tagi-atomic-'));
    try {
      await writeFileAtomic(path.join(dir, 'a.json'), stableJson({ a: 1 }));
      expect(readFileSync(path.join(dir, 'a.json'), 'utf8')).toBe('{\n  "a": 1\n}\n');
      expect(readdirSync(dir)).toEqual(['a.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
