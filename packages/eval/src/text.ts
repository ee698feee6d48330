// Text normalisation exactly as the reference scorers do it.
//
// rougeTokenize: Google rouge_score's default tokenizer (`tokenize.tokenize(text, stemmer)`):
//   lowercase, every run of characters outside [a-z0-9] becomes one space, split, stem tokens
//   longer than 3 characters with NLTK's Porter stemmer, drop empty tokens. Anything non-ASCII
//   is therefore a separator: 'café' -> ['caf'], '你好' -> [].
// normalizeAnswer: SNI / Tk-Instruct `normalize_answer` (SQuAD's, WITHOUT article removal):
//   Python `str.lower()`, drop ASCII `string.punctuation`, `' '.join(s.split())` with Python's
//   whitespace set.
//
// Lowercasing: JS `toLowerCase` and Python `str.lower` both apply Unicode full lowercase mapping
// (including final sigma). They differ only where the Unicode versions differ (Node 20 is newer than
// Python 3.11's 14.0: 55 code points such as U+A7CB); none of them lowercases to [a-z0-9], so ROUGE
// tokens are unaffected; exact match could differ only for strings containing those letters.

import { porterStem } from './porter.js';
import { expectString } from './errors.js';

const NON_ALPHANUMERIC_RUN = /[^a-z0-9]+/g;

export interface RougeTokenizeOptions {
  /** Porter-stem tokens longer than 3 characters (rouge_score `use_stemmer`; SNI uses true). Default true. */
  readonly stem?: boolean;
}

// Stemming dominates tokenisation time and real text repeats words heavily, so stems are memoised.
// The cache is bounded: it is dropped whole when full (simple, and no per-hit bookkeeping).
const STEM_CACHE_LIMIT = 200_000;
const stemCache = new Map<string, string>();

function cachedStem(word: string): string {
  let stem = stemCache.get(word);
  if (stem === undefined) {
    stem = porterStem(word);
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(word, stem);
  }
  return stem;
}

/** rouge_score's default tokenizer; with `stem` (default) as `RougeScorer(..., use_stemmer=True)`. */
export function rougeTokenize(text: string, opts: RougeTokenizeOptions = {}): string[] {
  expectString('rougeTokenize', 'text', text);
  const stem = opts.stem ?? true;
  const pieces = text.toLowerCase().replace(NON_ALPHANUMERIC_RUN, ' ').split(' ');
  const tokens: string[] = [];
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    tokens.push(stem && piece.length > 3 ? cachedStem(piece) : piece);
  }
  return tokens;
}

// Python's `string.punctuation`: the 32 ASCII punctuation characters.
const ASCII_PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

// Characters Python's `str.split()` treats as whitespace (`str.isspace()`), which is not JS's `\s`:
// Python adds U+001C..U+001F and U+0085; JS adds U+FEFF.
const PYTHON_WHITESPACE = new Set(
  [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680]
    .concat(Array.from({ length: 11 }, (_, i) => 0x2000 + i))
    .concat([0x2028, 0x2029, 0x202f, 0x205f, 0x3000])
    .map((c) => String.fromCharCode(c)),
);

/** SNI's `normalize_answer`: lowercase, remove ASCII punctuation, collapse whitespace. Articles are kept. */
export function normalizeAnswer(text: string): string {
  expectString('normalizeAnswer', 'text', text);
  const lower = text.toLowerCase();
  const words: string[] = [];
  let current = '';
  for (const ch of lower) {
    if (ASCII_PUNCTUATION.has(ch)) continue;
    if (PYTHON_WHITESPACE.has(ch)) {
      if (current.length > 0) words.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.length > 0) words.push(current);
  return words.join(' ');
}
