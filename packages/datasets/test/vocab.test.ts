// Every word of the embedded suites' inputs and outputs is one piece of the standard T5 vocabulary,
// and the compositional suite's instructions stay short (definition-only prompts of ~30 tokens).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_SUITES, compositionalSuite, embeddedSuite, suiteTexts } from '../src/index.js';
import { SKIP_MESSAGE, hasShared, sharedDir } from './shared.js';

describe.skipIf(!hasShared)(`embedded suites vs the T5 tokenizer (${hasShared ? 'present' : SKIP_MESSAGE})`, () => {
  const dir = path.join(sharedDir, 'data', 't5-tokenizer');
  const tok = hasShared
    ? new Tokenizer(
        JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
        JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
      )
    : undefined;

  it.each(EMBEDDED_SUITES)('%s uses only single-piece words in inputs and outputs, and a small pruned vocabulary', (name) => {
    if (tok === undefined) throw new Error('no tokenizer');
    const suite = embeddedSuite({ name });
    const words = new Set<string>();
    for (const t of suite.tasks)
      for (const i of [...t.instances, ...t.positiveExamples.map((e) => ({ input: e.input, outputs: [e.output] }))])
        for (const s of [i.input, ...i.outputs]) for (const w of s.split(' ')) words.add(w);
    const multi = [...words].filter((w) => tok.tokenize(w).length !== 1);
    expect(multi).toEqual([]);
    const ids = new Set<number>();
    for (const s of suiteTexts(suite)) for (const id of tok.encode(s).ids) ids.add(id);
    expect(ids.size).toBeLessThan(name === 'compositional-v1' ? 300 : 1000);
  });

  it('keeps compositional-v1 definitions short: at most 40 T5 tokens', () => {
    if (tok === undefined) throw new Error('no tokenizer');
    const lengths = compositionalSuite().tasks.flatMap((t) => t.definition.map((d) => tok.encode(`Definition: ${d}\n\n`).ids.length));
    expect(Math.max(...lengths)).toBeLessThanOrEqual(40);
  });
});
