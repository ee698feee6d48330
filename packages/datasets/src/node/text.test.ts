import { mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetFieldError, DatasetParseError } from '../errors.js';
import { jsonlCorpus, plainTextCorpus } from './text.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tagi-datasets-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('jsonlCorpus', () => {
  it('streams {"text": …} documents in C4 layout with file:line ids', async () => {
    const f = path.join(dir, 'c4.jsonl');
    writeFileSync(f, '{"text": "first doc", "timestamp": "t", "url": "u"}\n\n{"text": "second\\ndoc"}\r\n');
    const docs = await collect(jsonlCorpus(f));
    expect(docs).toEqual([
      { id: `${f}:1`, text: 'first doc' },
      { id: `${f}:3`, text: 'second\ndoc' },
    ]);
  });

  it('reads gzip-compressed jsonl (C4 ships .json.gz)', async () => {
    const f = path.join(dir, 'c4.json.gz');
    writeFileSync(f, gzipSync('{"text": "zipped one"}\n{"text": "zipped two"}\n'));
    expect((await collect(jsonlCorpus(f))).map((d) => d.text)).toEqual(['zipped one', 'zipped two']);
  });

  it('throws with file and line on a malformed line, and names a missing field', async () => {
    const f = path.join(dir, 'bad.jsonl');
    writeFileSync(f, '{"text": "ok"}\n{"text": "broken\n{"body": "x"}\n');
    const e1 = await collect(jsonlCorpus(f)).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DatasetParseError);
    expect((e1 as DatasetParseError).line).toBe(2);
    const g = path.join(dir, 'nofield.jsonl');
    writeFileSync(g, '{"text": "ok"}\n{"body": "x"}\n');
    const e2 = await collect(jsonlCorpus(g)).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(DatasetFieldError);
    expect(String(e2)).toContain(`${g}:2: field "text"`);
  });

  it('counts and reports skips instead of dropping silently', async () => {
    const f = path.join(dir, 'mixed.jsonl');
    writeFileSync(f, '{"text": "a"}\n{"text": \n{"body": 1}\n{"text": "  "}\n{"text": "b"}\n');
    const c = jsonlCorpus(f, { onInvalid: 'skip' });
    const docs = await collect(c);
    expect(docs.map((d) => d.text)).toEqual(['a', 'b']);
    expect(c.skips.skipped).toBe(3);
    expect(c.skips.reasons).toEqual({ 'malformed JSON': 1, 'missing or non-string "text"': 1, 'empty text': 1 });
  });

  it('keeps memory bounded while streaming a file much larger than the heap growth allowed', async () => {
    const f = path.join(dir, 'big.jsonl');
    const ws = createWriteStream(f);
    const para = 'lorem ipsum dolor sit amet '.repeat(40);
    let bytes = 0;
    for (let i = 0; bytes < 48 * 1024 * 1024; i++) {
      const line = `${JSON.stringify({ text: `${i} ${para}` })}\n`;
      bytes += line.length;
      if (!ws.write(line)) await new Promise<void>((r) => ws.once('drain', () => r()));
    }
    await new Promise<void>((r) => ws.end(r));
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    for await (const d of jsonlCorpus(f)) {
      n++;
      if (d.text.length === 0) throw new Error('empty');
      if (n % 2000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
    expect(n).toBeGreaterThan(40_000);
    // Holding the file would take >= 48 MB (96 MB as a UTF-16 string); streaming stays far below.
    expect(peak).toBeLessThan(24 * 1024 * 1024);
  });
});

describe('plainTextCorpus', () => {
  it('splits paragraphs on blank lines, or yields non-blank lines', async () => {
    const f = path.join(dir, 'plain.txt');
    writeFileSync(f, 'para one\nline two\n\n\npara two\n\nlast\n');
    expect((await collect(plainTextCorpus(f))).map((d) => d.text)).toEqual(['para one\nline two', 'para two', 'last']);
    expect((await collect(plainTextCorpus(f, { unit: 'line', limit: 3 }))).map((d) => d.id)).toEqual([`${f}:1`, `${f}:2`, `${f}:5`]);
  });
});
