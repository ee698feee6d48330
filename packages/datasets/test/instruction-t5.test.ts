// The instruction -> input function with the real T5 tokenizer (../shared/data/t5-tokenizer): a task and
// the same definition typed as free text give identical ids, and the length policy keeps T5's eos.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { compositionalSuite, prepareInstruction, type TokenEncoder } from '../src/index.js';
import { SKIP_MESSAGE, hasShared, sharedDir } from './shared.js';

describe.skipIf(!hasShared)(`prepareInstruction with the T5 tokenizer (${hasShared ? 'present' : SKIP_MESSAGE})`, () => {
  const dir = path.join(sharedDir, 'data', 't5-tokenizer');
  const tok = hasShared
    ? new Tokenizer(
        JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
        JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
      )
    : undefined;
  const encoder: TokenEncoder = { encode: (t) => (tok as Tokenizer).encode(t).ids };
  const suite = compositionalSuite();

  it("appends eos (id 1), as @tagi/t5-model's encode does", () => {
    expect(encoder.encode('red cat').at(-1)).toBe(1);
  });

  it('gives a task and its definition typed as free text (with or without the label) the same ids, cut or not', () => {
    for (const t of [...suite.heldOut.slice(0, 10), ...suite.train.slice(0, 10)]) {
      for (const max of [undefined, 12]) {
        const opts = { encoder, ...(max === undefined ? {} : { maxInstructionTokens: max, maxSourceTokens: max + 8 }) };
        const a = prepareInstruction(t, 'Def', opts);
        for (const typed of [t.definition[0] ?? '', `Definition: ${t.definition[0] ?? ''}`]) {
          const b = prepareInstruction(typed, 'Def', opts);
          expect(b.instructionIds, `${t.taskId} ${max}`).toEqual(a.instructionIds);
          const input = t.instances[0]?.input ?? '';
          expect(b.forInput(input).concatenatedIds).toEqual(a.forInput(input).concatenatedIds);
        }
        if (max !== undefined) {
          expect(a.instructionIds).toHaveLength(12);
          expect(a.instructionIds?.at(-1)).toBe(1);
        }
      }
    }
  });
});
