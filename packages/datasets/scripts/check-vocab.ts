// Checks that every word the embedded suite puts in inputs and outputs is a single SentencePiece
// piece of the standard T5 tokenizer, and reports the pruned vocabulary size of the whole suite.
// Run: npx tsx scripts/check-vocab.ts [path/to/t5-tokenizer]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';
import { embeddedSuite, suiteTexts } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? path.resolve(here, '..', '..', '..', '..', 'shared', 'data', 't5-tokenizer');
const tok = new Tokenizer(
  JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
  JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
);
const suite = embeddedSuite();
const words = new Set<string>();
for (const t of suite.tasks) for (const inst of t.instances) for (const s of [inst.input, ...inst.outputs]) for (const w of s.split(' ')) words.add(w);
const multi = [...words].filter((w) => tok.tokenize(w).length !== 1);
console.log(
  `${words.size} distinct input/output words; multi-piece: ${multi.length === 0 ? 'none' : multi.map((w) => `${w}=${tok.tokenize(w).join('|')}`).join(' ')}`,
);
const ids = new Set<number>();
for (const s of suiteTexts(suite)) for (const id of tok.encode(s).ids) ids.add(id);
console.log(`pruned vocabulary of the whole suite (definitions, examples, instances): ${ids.size} token ids`);
process.exitCode = multi.length === 0 ? 0 : 1;
