// Streaming line readers (Node readline over a read stream): never hold a whole file in memory.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { DatasetParseError } from '../errors.js';
import { parseJsonText } from '../json.js';

/**
 * Lines of a UTF-8 text file with their 1-based numbers ("\r\n" handled). Files ending in `.gz`
 * (C4 ships `c4-train.*.json.gz`) are decompressed on the fly.
 */
export async function* readLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const stream = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      yield { line, text };
    }
  } finally {
    rl.close();
    stream.destroy();
    raw.destroy();
  }
}

/** Parsed JSONL records with their line numbers; blank lines are skipped; bad JSON → DatasetParseError(file, line). */
export async function* readJsonl(file: string): AsyncGenerator<{ line: number; value: unknown }> {
  for await (const { line, text } of readLines(file)) {
    if (text.trim() === '') continue;
    yield { line, value: parseJsonText(text, file, line) };
  }
}

/** Read a whole (small) JSONL file into memory. */
export async function readJsonlArray(file: string): Promise<{ line: number; value: unknown }[]> {
  const out: { line: number; value: unknown }[] = [];
  for await (const r of readJsonl(file)) out.push(r);
  return out;
}

/** Minimal RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. Header row → records. */
export function parseCsv(text: string, file: string): { line: number; row: Record<string, string> }[] {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.length > 1 || cells[0] !== '') records.push({ line: startLine, cells });
      cells = [];
      cell = '';
      line++;
      startLine = line;
    } else cell += c;
  }
  if (quoted) throw new DatasetParseError(file, startLine, 'unterminated quoted CSV field');
  if (cell !== '' || cells.length > 0) {
    cells.push(cell);
    records.push({ line: startLine, cells });
  }
  const [header, ...rows] = records;
  if (header === undefined) return [];
  return rows.map(({ line: l, cells: cs }) => {
    if (cs.length !== header.cells.length) {
      throw new DatasetParseError(file, l, `expected ${header.cells.length} CSV columns, got ${cs.length}`);
    }
    return { line: l, row: Object.fromEntries(header.cells.map((h, j) => [h, cs[j] as string])) };
  });
}
