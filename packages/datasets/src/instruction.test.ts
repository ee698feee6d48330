import { describe, expect, it } from 'vitest';
import { compositionalSuite } from './embedded/suite.js';
import { DatasetArgumentError } from './errors.js';
import { prepareInstruction, resolveInstructionFormat, tagiExamples, type TokenEncoder, type TruncationReport } from './instruction.js';
import { PROMPT_SETTINGS, buildPrompt } from './prompts.js';
import type { Task } from './types.js';

/** A word-level stand-in tokenizer: one id per whitespace-separated piece (stable per piece), eos = 1. */
function wordEncoder(): TokenEncoder & { vocab: Map<string, number> } {
  const vocab = new Map<string, number>();
  return {
    vocab,
    encode(text: string): number[] {
      const ids = text
        .split(/\s+/)
        .filter(Boolean)
        .map((w) => {
          let id = vocab.get(w);
          if (id === undefined) {
            id = vocab.size + 10;
            vocab.set(w, id);
          }
          return id;
        });
      return [...ids, 1];
    },
  };
}
const count = (enc: TokenEncoder, s: string) => enc.encode(s).length;

const task: Task = {
  taskId: 't1',
  category: 'c',
  definition: ['Write the second word of the input', 'Output the word at position two'],
  positiveExamples: [
    { input: 'red cat box', output: 'cat', explanation: 'cat is second' },
    { input: 'one two three', output: 'two' },
    { input: 'a b c', output: 'b' },
  ],
  negativeExamples: [
    { input: 'x y z', output: 'x' },
    { input: 'p q r', output: 'r' },
  ],
  instances: [
    { id: 't1-0', input: 'blue dog tea', outputs: ['dog'] },
    { id: 't1-1', input: 'big small', outputs: ['small'] },
  ],
};

describe('prepareInstruction: texts', () => {
  it('formats the hypernetwork instruction, the bare student input and the exact Tk-Instruct prompt', () => {
    for (const setting of Object.keys(PROMPT_SETTINGS) as (keyof typeof PROMPT_SETTINGS)[]) {
      const p = prepareInstruction(task, setting);
      const built = buildPrompt(task, 'blue dog tea', PROMPT_SETTINGS[setting]);
      const x = p.forInput('blue dog tea');
      expect(p.instruction, setting).toBe(built.hyperInstruction);
      expect(x.concatenated, setting).toBe(built.source);
      expect(x.studentInput).toBe('blue dog tea');
      expect(x.truncations).toEqual([]);
    }
    const def = prepareInstruction(task, 'Def');
    expect(def.instruction).toBe('Definition: Write the second word of the input.\n\n');
    expect(prepareInstruction(task, { definitionIndex: 1 }).instruction).toBe('Definition: Output the word at position two.\n\n');
    expect(prepareInstruction(task, 'Def+2Pos').instruction).toContain(' Positive Example 2 -\n');
  });

  it('treats free text exactly as a definition, without doubling a typed "Definition:" label', () => {
    const enc = wordEncoder();
    const fromTask = prepareInstruction(task, 'Def', { encoder: enc, maxInstructionTokens: 64, maxSourceTokens: 64 });
    for (const typed of [
      'Write the second word of the input',
      'Definition: Write the second word of the input',
      '  definition:Write the second word of the input  ',
    ]) {
      const fromText = prepareInstruction(typed, 'Def', { encoder: enc, maxInstructionTokens: 64, maxSourceTokens: 64 });
      expect(fromText.origin).toBe('text');
      expect(fromText.instruction, typed).toBe(fromTask.instruction);
      expect(fromText.instruction.match(/Definition:/g)?.length).toBe(1);
      expect(fromText.instructionIds, typed).toEqual(fromTask.instructionIds);
      expect(fromText.forInput('blue dog tea').concatenatedIds).toEqual(fromTask.forInput('blue dog tea').concatenatedIds);
    }
  });

  it('says when the source lacks the demonstrations the format asks for (free text has none)', () => {
    const p = prepareInstruction('Write the second word', 'Def+2Pos+2Neg');
    expect([p.numPositive, p.numNegative, p.missingPositive, p.missingNegative]).toEqual([0, 0, 2, 2]);
    expect(p.instruction).toBe('Definition: Write the second word.\n\n');
    const t = prepareInstruction({ definition: ['Do it'], positiveExamples: [{ input: 'a', output: 'b' }] }, { numPositive: 3 });
    expect([t.numPositive, t.missingPositive]).toEqual([1, 2]);
  });

  it('rejects empty instructions and bad formats with typed errors naming the argument', () => {
    for (const bad of ['', '   ', '\n\t', 'Definition:', ' Definition:   ']) {
      expect(() => prepareInstruction(bad), JSON.stringify(bad)).toThrow(DatasetArgumentError);
      expect(() => prepareInstruction(bad)).toThrow(/^instruction: expected a non-empty instruction/);
    }
    expect(() => prepareInstruction({ ...task, definition: ['  '] })).toThrow(/task "t1"\.definition\[0\]: expected a non-empty definition/);
    expect(() => prepareInstruction(task, { definitionIndex: 2 })).toThrow(/format\.definitionIndex: expected an index below 2/);
    expect(() => prepareInstruction('Do it', { definitionIndex: 1 })).toThrow(/format\.definitionIndex/);
    expect(() => prepareInstruction(task, { numPositive: -1 })).toThrow(/format\.numPositive: expected a non-negative integer/);
    expect(() => prepareInstruction(task, { numNegative: 1.5 })).toThrow(/format\.numNegative/);
    expect(() => prepareInstruction(task, 'Def+9Pos' as 'Def')).toThrow(/^format: expected a format object or one of Def, Def\+2Pos/);
    expect(() => prepareInstruction(task, 'Def', { encoder: wordEncoder(), maxInstructionTokens: 1 })).toThrow(
      /maxInstructionTokens: expected an integer >= 2/,
    );
    expect(() => prepareInstruction(task).forInput(3 as unknown as string)).toThrow(/^input: expected a string/);
    expect(resolveInstructionFormat('Def+2Pos+2Neg+explanation')).toEqual({ numPositive: 2, numNegative: 2, addExplanation: true, definitionIndex: 0 });
  });

  it('with an encoder and no token budget gives the whole ids, uncut; without an encoder no ids', () => {
    const enc = wordEncoder();
    const seen: TruncationReport[] = [];
    const p = prepareInstruction(task, 'Def+2Pos', { encoder: enc, onTruncate: (r) => seen.push(r) });
    expect(p.instructionIds).toEqual(enc.encode(p.instruction));
    const x = p.forInput('a b c');
    expect(x.concatenatedIds).toEqual(enc.encode(x.concatenated));
    expect(x.studentInputIds).toEqual(enc.encode('a b c'));
    expect(seen).toEqual([]);
    // the same ids a large enough budget gives
    const big = prepareInstruction(task, 'Def+2Pos', { encoder: enc, maxInstructionTokens: 10_000, maxSourceTokens: 10_000 });
    expect(big.instructionIds).toEqual(p.instructionIds);
    expect(big.forInput('a b c').concatenatedIds).toEqual(x.concatenatedIds);
    const bare = prepareInstruction(task, 'Def');
    expect(bare.instructionIds).toBeUndefined();
    expect(bare.forInput('a b c').concatenatedIds).toBeUndefined();
  });
});

describe('prepareInstruction: one truncation policy over token ids', () => {
  const fmt = { numPositive: 3, numNegative: 2 } as const;

  it('cuts nothing and reports nothing when everything fits', () => {
    const enc = wordEncoder();
    const seen: TruncationReport[] = [];
    const p = prepareInstruction(task, fmt, { encoder: enc, maxInstructionTokens: 500, maxSourceTokens: 500, onTruncate: (r) => seen.push(r) });
    const x = p.forInput('blue dog tea');
    expect(p.instructionIds).toEqual(enc.encode(p.instruction));
    expect(x.concatenatedIds).toEqual(enc.encode(x.concatenated));
    expect(x.studentInputIds).toEqual(enc.encode('blue dog tea'));
    expect(p.truncation).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it('drops demonstrations from the end first: the last negative, then the other negative, then positives', () => {
    const enc = wordEncoder();
    const full = prepareInstruction(task, fmt).instruction;
    const withoutLastNeg = prepareInstruction(task, { numPositive: 3, numNegative: 1 }).instruction;
    const twoPos = prepareInstruction(task, { numPositive: 2, numNegative: 0 }).instruction;
    const seen: TruncationReport[] = [];
    const a = prepareInstruction(task, fmt, { encoder: enc, maxInstructionTokens: count(enc, withoutLastNeg), onTruncate: (r) => seen.push(r) });
    expect(a.instruction).toBe(withoutLastNeg);
    expect([a.numPositive, a.numNegative]).toEqual([3, 1]);
    expect(a.truncation).toMatchObject({
      text: 'instruction',
      taskId: 't1',
      droppedPositive: 0,
      droppedNegative: 1,
      definitionTokensCut: 0,
      tokensBefore: count(enc, full),
      tokensAfter: count(enc, withoutLastNeg),
    });
    expect(seen).toEqual([a.truncation]);
    const b = prepareInstruction(task, fmt, { encoder: enc, maxInstructionTokens: count(enc, twoPos) });
    expect(b.instruction).toBe(twoPos);
    expect(b.truncation).toMatchObject({ droppedPositive: 1, droppedNegative: 2, definitionTokensCut: 0 });
    expect(b.instructionIds).toEqual(enc.encode(twoPos));
  });

  it('then cuts the definition from its end, keeping eos, and reports the tokens cut', () => {
    const enc = wordEncoder();
    const defOnly = enc.encode(prepareInstruction(task, 'Def').instruction);
    const max = defOnly.length - 3;
    const p = prepareInstruction(task, fmt, { encoder: enc, maxInstructionTokens: max });
    expect(p.instructionIds).toHaveLength(max);
    expect(p.instructionIds?.[max - 1]).toBe(1);
    expect(p.instructionIds?.slice(0, -1)).toEqual(defOnly.slice(0, max - 1));
    expect(p.truncation).toMatchObject({ droppedPositive: 3, droppedNegative: 2, definitionTokensCut: 3, tokensAfter: max, maxTokens: max });
    // without an eos id (an encoder that appends none) the cut keeps the first max ids
    const q = prepareInstruction(task, 'Def', { encoder: { encode: (t) => enc.encode(t).slice(0, -1) }, eosTokenId: null, maxInstructionTokens: 4 });
    expect(q.instructionIds).toEqual(defOnly.slice(0, 4));
  });

  it('cuts the concatenated prompt by the same policy and keeps the whole instance input and eos', () => {
    const enc = wordEncoder();
    const input = 'blue dog tea';
    const tailIds = enc.encode(prepareInstruction(task).forInput(input).concatenated.slice(prepareInstruction(task).instruction.length));
    const defIds = enc.encode(prepareInstruction(task).instruction).slice(0, -1);
    const seen: TruncationReport[] = [];
    const p = prepareInstruction(task, fmt, { encoder: enc, maxSourceTokens: tailIds.length + 2, onTruncate: (r) => seen.push(r) });
    const x = p.forInput(input);
    expect(x.concatenatedIds).toEqual([...defIds.slice(0, 2), ...tailIds]);
    expect(x.truncations).toEqual([
      expect.objectContaining({ text: 'concatenated', droppedPositive: 3, droppedNegative: 2, definitionTokensCut: defIds.length - 2, inputTokensCut: 0 }),
    ]);
    expect(seen).toEqual(x.truncations);
    // the instruction had no budget: untouched
    expect(p.truncation).toBeUndefined();
    expect(p.numPositive).toBe(3);
  });

  it('cuts an input that alone exceeds the budget from its end, keeping eos, for the student and the prompt', () => {
    const enc = wordEncoder();
    const long = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    const p = prepareInstruction(task, 'Def', { encoder: enc, maxSourceTokens: 8 });
    const x = p.forInput(long);
    expect(x.studentInputIds).toEqual([...enc.encode(long).slice(0, 7), 1]);
    expect(x.concatenatedIds).toHaveLength(8);
    expect(x.concatenatedIds?.[7]).toBe(1);
    const kinds = x.truncations.map((r) => [r.text, r.inputTokensCut > 0]);
    expect(kinds).toEqual([
      ['concatenated', true],
      ['input', true],
    ]);
    expect(x.truncations[1]).toMatchObject({ inputTokensCut: 31 - 8, tokensBefore: 31, tokensAfter: 8 });
  });

  it('gives a task and the same definition typed as free text identical ids under a budget too (real suite task)', () => {
    const enc = wordEncoder();
    const t = compositionalSuite().heldOut[0] as Task;
    const opts = { encoder: enc, maxInstructionTokens: 9, maxSourceTokens: 12 };
    const a = prepareInstruction(t, 'Def', opts);
    const b = prepareInstruction(`Definition: ${t.definition[0] ?? ''}`, 'Def', opts);
    expect(b.instructionIds).toEqual(a.instructionIds);
    expect(a.truncation?.taskId).toBe(t.taskId);
    const { taskId: _id, ...sameCut } = a.truncation ?? { taskId: '' };
    expect(b.truncation).toEqual(sameCut);
    expect(b.truncation?.definitionTokensCut).toBeGreaterThan(0);
    const input = t.instances[0]?.input ?? '';
    expect(b.forInput(input).concatenatedIds).toEqual(a.forInput(input).concatenatedIds);
  });
});

describe('tagiExamples (through prepareInstruction)', () => {
  it('gives one row per instance with the prepared instruction, the bare input and the Tk-Instruct prompt', () => {
    const rows = tagiExamples(task, { addDefinition: true, numPositive: 2 });
    const p = prepareInstruction(task, { numPositive: 2 });
    expect(rows.map((r) => r.instanceId)).toEqual(['t1-0', 't1-1']);
    for (const [i, r] of rows.entries()) {
      const inst = task.instances[i];
      expect(r.instruction).toBe(p.instruction);
      expect(r.studentInput).toBe(inst?.input);
      expect(r.concatenated).toBe(buildPrompt(task, inst?.input ?? '', { numPositive: 2 }).source);
      expect(r.outputs).toEqual(inst?.outputs);
    }
    expect(tagiExamples(task, 'Def+2Pos')).toEqual(rows);
  });

  it('rejects options it cannot honour instead of ignoring them', () => {
    expect(() => tagiExamples(task, { addDefinition: false })).toThrow(/options\.addDefinition/);
    expect(() => tagiExamples(task, { maxSourceLength: 9 } as never)).toThrow(/options\.maxSourceLength: expected no such option/);
  });
});
