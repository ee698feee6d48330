// Node-only IO for @tagi/t5-model: tokenizer files and HF checkpoint directories.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { T5Tokenizer, TokenizerError } from './tokenizer.js';

/** The standard T5 tokenizer files shipped in the package (`assets/`, Apache-2.0, see NOTICE). */
export const DEFAULT_TOKENIZER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'assets');

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new TokenizerError(`${what}: ${file} does not exist`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (e) {
    throw new TokenizerError(`${what}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** Load `tokenizer.json` (+ `tokenizer_config.json` when present) from an HF directory. */
export function loadT5Tokenizer(dir: string): T5Tokenizer {
  const tj = readJson(path.join(dir, 'tokenizer.json'), 'tokenizer') as object;
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  const cfg = fs.existsSync(cfgFile) ? (readJson(cfgFile, 'tokenizer config') as object) : {};
  return new T5Tokenizer(tj, cfg);
}

let cachedDefault: T5Tokenizer | undefined;
/** The standard T5 tokenizer (32,100 ids) that ships with the package. */
export function loadDefaultT5Tokenizer(): T5Tokenizer {
  cachedDefault ??= loadT5Tokenizer(DEFAULT_TOKENIZER_DIR);
  return cachedDefault;
}
