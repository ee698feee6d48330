// Every word of the embedded suite's inputs and outputs is one piece of the standard T5 vocabulary.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { embeddedSuite, suiteTexts } from '../src/index.js';
import { SKIP_MESSAGE, hasShared, sharedDir } from './shared.js';

describe.skipIf(!hasShared)(`embedded suite vs the T5 tokenizer (${hasShared ? 'present' : SKIP_MESSAGE})`, () => {
  it('uses only single-piece words in inputs and outputs, and a small pruned vocabulary', () => {
    const dir = path.join(sharedDir, 'data', 't5-tokenizer');
    const tok = new Tokenizer(JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')));
    const suite = embeddedSuite();
    const words = new Set<string>();
    for (const t of suite.tasks) for (const i of [...t.instances, ...t.positiveExamples.map((e) => ({ input: e.input, outputs: [e.output] }))]) for (const s of [i.input, ...i.outputs]) for (const w of s.split(' ')) words.add(w);
    const multi = [...words].filter((w) => tok.tokenize(w).length !== 1);
    expect(multi).toEqual([]);
    const ids = new Set<number>();
    for (const s of suiteTexts(suite)) for (const id of tok.encode(s).ids) ids.add(id);
    expect(ids.size).toBeLessThan(1000);
  });
});
