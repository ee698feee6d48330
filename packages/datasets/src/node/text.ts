// Text corpora for hypernetwork pretraining, streamed: jsonl with a text field (C4 layout:
// {"text": …, "timestamp": …, "url": …}) or plain text (one document per line or per blank-line
// separated paragraph). Memory stays bounded by the longest document, not the file.
import { DatasetFieldError } from '../errors.js';
import type { SkipReport, TextDocument } from '../types.js';
import { readLines } from './lines.js';
import { parseJsonText } from '../json.js';

/** A stream of documents that also counts what it skipped. */
export interface TextCorpus extends AsyncIterable<TextDocument> {
  /** Filled while iterating; complete once iteration ends. */
  readonly skips: SkipReport;
}

export interface JsonlCorpusOptions {
  /** Field holding the text. Default "text". */
  readonly field?: string;
  /**
   * What to do with a line that is not a JSON object with a string `field`, or whose text is empty:
   * "error" (default) throws naming file, line and field; "skip" counts it in `skips`.
   */
  readonly onInvalid?: 'error' | 'skip';
  /** Stop after this many documents. */
  readonly limit?: number;
}

class Skips implements SkipReport {
  skipped = 0;
  reasons: Record<string, number> = {};
  add(reason: string): void {
    this.skipped++;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
  }
}

/** Stream `{"text": …}` documents from a jsonl file. Document ids are `<file>:<line>`. */
export function jsonlCorpus(file: string, options: JsonlCorpusOptions = {}): TextCorpus {
  const field = options.field ?? 'text';
  const strict = (options.onInvalid ?? 'error') === 'error';
  const limit = options.limit ?? Infinity;
  const skips = new Skips();
  return {
    skips,
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for await (const { line, text } of readLines(file)) {
        if (n >= limit) return;
        if (text.trim() === '') continue;
        let value: unknown;
        try {
          value = parseJsonText(text, file, line);
        } catch (e) {
          if (strict) throw e;
          skips.add('malformed JSON');
          continue;
        }
        const t = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
        if (typeof t !== 'string') {
          if (strict) throw new DatasetFieldError(file, field, 'a string', line);
          skips.add(`missing or non-string "${field}"`);
          continue;
        }
        if (t.trim() === '') {
          skips.add('empty text');
          continue;
        }
        n++;
        yield { id: `${file}:${line}`, text: t };
      }
    },
  };
}

export interface PlainTextOptions {
  /** "line": every non-blank line is a document; "paragraph": blank lines separate documents. Default "paragraph". */
  readonly unit?: 'line' | 'paragraph';
  readonly limit?: number;
}

/** Stream documents from a plain UTF-8 text file. Blank lines are separators, not skips. */
export function plainTextCorpus(file: string, options: PlainTextOptions = {}): TextCorpus {
  const unit = options.unit ?? 'paragraph';
  const limit = options.limit ?? Infinity;
  const skips = new Skips();
  return {
    skips,
    async *[Symbol.asyncIterator]() {
      let n = 0;
      let buf: string[] = [];
      let start = 0;
      for await (const { line, text } of readLines(file)) {
        if (n >= limit) return;
        if (unit === 'line') {
          if (text.trim() !== '') {
            n++;
            yield { id: `${file}:${line}`, text };
          }
          continue;
        }
        if (text.trim() === '') {
          if (buf.length > 0) {
            n++;
            yield { id: `${file}:${start}`, text: buf.join('\n') };
            buf = [];
          }
          continue;
        }
        if (buf.length === 0) start = line;
        buf.push(text);
      }
      if (buf.length > 0 && n < limit) yield { id: `${file}:${start}`, text: buf.join('\n') };
    },
  };
}
