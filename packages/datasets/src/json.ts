// JSON parsing with errors that name the file and line.
import { DatasetParseError } from './errors.js';

/** 1-based line of a character offset. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** JSON.parse that throws DatasetParseError(file, line) instead of a bare SyntaxError. */
export function parseJsonText(text: string, file: string, baseLine = 0): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // V8: "... in JSON at position 123" (Node 20) or "(line 4 column 2)" (newer engines).
    const lineCol = /line (\d+) column \d+/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    let line = 1;
    if (lineCol?.[1] !== undefined) line = Number(lineCol[1]);
    else if (pos?.[1] !== undefined) line = lineOfOffset(text, Number(pos[1]));
    else if (/end of JSON input/i.test(msg)) line = lineOfOffset(text, text.length);
    throw new DatasetParseError(file, baseLine > 0 ? baseLine : line, `invalid JSON: ${msg}`);
  }
}

/** Parse JSONL text; each non-blank line is one record. Errors carry file and line. */
export function parseJsonl(text: string, file: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line !== '') out.push(parseJsonText(line, file, i + 1));
  });
  return out;
}
