import { describe, expect, it } from 'vitest';
import { DatasetArgumentError } from './errors.js';
import { InstructionInputs, type InstructionTokenizer, hypernetInstructionIds, instructionText } from './instruction-inputs.js';
import { prepareInstruction } from './instruction.js';
import type { Task } from './types.js';

/** A word-level stand-in tokenizer (one id per whitespace-separated piece, eos = 1) that counts its calls. */
function wordTokenizer(): InstructionTokenizer & { calls: number } {
  const vocab = new Map<string, number>();
  const tok = {
    eosTokenId: 1,
    calls: 0,
    encode(text: string): number[] {
      tok.calls++;
      const ids = text
        .split(/\s+/)
        .filter(Boolean)
        .map((w) => {
          if (!vocab.has(w)) vocab.set(w, vocab.size + 10);
          return vocab.get(w) as number;
        });
      return [...ids, 1];
    },
  };
  return tok;
}

const task: Task = {
  taskId: 't1',
  category: 'c',
  definition: ['Write the second word of the input'],
  positiveExamples: [
    { input: 'red cat box', output: 'cat' },
    { input: 'one two three', output: 'two' },
  ],
  negativeExamples: [],
  instances: [{ id: 't1-0', input: 'blue dog tea', outputs: ['dog'] }],
};

describe('InstructionInputs: a run prompt object over prepareInstruction', () => {
  it("gives prepareInstruction's ids under the prompt's budgets, and takes a config's prompt object as it is", () => {
    const tok = wordTokenizer();
    // a trainer config's prompt object: keys it does not read are ignored
    const prompt = { numPos: 2, maxSourceLength: 64, maxTargetLength: 8, maxInstancesPerTask: 4, maxEvalInstancesPerTask: 4 };
    const inputs = new InstructionInputs(tok, { ...prompt, maxInstructionLength: 32 });
    const p = prepareInstruction(task, { numPositive: 2 }, { encoder: tok, eosTokenId: 1, maxInstructionTokens: 32, maxSourceTokens: 64 });
    expect(inputs.instructionIds(task)).toEqual(p.instructionIds);
    expect(inputs.studentInputIds(task, 'blue dog tea')).toEqual(p.forInput('blue dog tea').studentInputIds);
    expect(inputs.concatenatedIds(task, 'blue dog tea')).toEqual(p.forInput('blue dog tea').concatenatedIds);
    expect(inputs.prepare(task).instruction).toBe(p.instruction);
    expect([inputs.numPos, inputs.maxSourceLength, inputs.maxInstructionLength]).toEqual([2, 64, 32]);
    expect(new InstructionInputs(tok, prompt).maxInstructionLength).toBe(64); // default: the source budget
    expect(inputs.summary()).toBeUndefined();
  });

  it('prepares each task once, and keeps free text apart from a task whose id is that text', () => {
    const tok = wordTokenizer();
    const inputs = new InstructionInputs(tok, { numPos: 0, maxSourceLength: 64 });
    const first = inputs.instructionIds(task);
    const calls = tok.calls;
    expect(inputs.instructionIds(task)).toEqual(first);
    expect(tok.calls).toBe(calls);
    // a user's text is a definition: the same definition typed gives the task's ids ("Def")
    expect(inputs.instructionIds('Write the second word of the input')).toEqual(first);
    const named = { ...task, taskId: 'Do something else', definition: ['Do something else'] };
    expect(inputs.instructionIds(named)).not.toEqual(inputs.instructionIds('Write the second word of the input'));
    // returned arrays are copies: a caller's change does not reach the cache
    first.push(99);
    expect(inputs.instructionIds(task)).not.toContain(99);
  });

  it('records every cut by the one policy and summarises them in one line', () => {
    const tok = wordTokenizer();
    const inputs = new InstructionInputs(tok, { numPos: 2, maxSourceLength: 12, maxInstructionLength: 10 });
    const ids = inputs.instructionIds(task);
    expect(ids.length).toBeLessThanOrEqual(10);
    expect(ids[ids.length - 1]).toBe(1);
    expect(inputs.truncations[0]).toMatchObject({ text: 'instruction', droppedPositive: 2 }); // demonstrations go first
    inputs.concatenatedIds(task, 'blue dog tea');
    inputs.studentInputIds(task, Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '));
    // the long input is cut for the student, and its concatenated prompt (with the input) is cut too
    expect(inputs.truncations.map((t) => t.text)).toEqual(['instruction', 'concatenated', 'concatenated', 'input']);
    expect(inputs.summary()).toBe(
      `1 hypernetwork instructions, 2 concatenated prompts, 1 instance inputs exceeded their token budget (prompt.max-source-length 12, instructions 10): ${inputs.truncations.reduce((n, t) => n + t.droppedPositive + t.droppedNegative, 0)} demonstrations dropped from the end, then definitions cut (eos kept)`,
    );
  });

  it('checks its arguments at the boundary, naming each', () => {
    const tok = wordTokenizer();
    expect(() => new InstructionInputs(tok, { numPos: -1, maxSourceLength: 8 })).toThrow(DatasetArgumentError);
    expect(() => new InstructionInputs(tok, { numPos: -1, maxSourceLength: 8 })).toThrow(/^prompt\.numPos: expected an integer >= 0/);
    expect(() => new InstructionInputs(tok, { numPos: 0, maxSourceLength: 1 })).toThrow(/^prompt\.maxSourceLength: expected an integer >= 2/);
    expect(() => new InstructionInputs(tok, { numPos: 0, maxSourceLength: 8, maxInstructionLength: 2.5 })).toThrow(/^prompt\.maxInstructionLength/);
    expect(() => new InstructionInputs(tok, undefined as never)).toThrow(/^prompt: expected an object/);
    expect(() => new InstructionInputs({ encode: () => [1] } as never, { numPos: 0, maxSourceLength: 8 })).toThrow(/^tok\.eosTokenId/);
    expect(() => new InstructionInputs({} as never, { numPos: 0, maxSourceLength: 8 })).toThrow(/^tok: expected a tokenizer/);
  });
});

describe('hypernetInstructionIds and instructionText', () => {
  it("are an instruction's ids within the hypernetwork's budget (with its cut) and its text", () => {
    const tok = wordTokenizer();
    const whole = hypernetInstructionIds(tok, task, { numPos: 2, maxInstructionLength: 512 });
    expect(whole.truncation).toBeUndefined();
    expect(whole.ids).toEqual(new InstructionInputs(tok, { numPos: 2, maxSourceLength: 512 }).instructionIds(task));
    const cut = hypernetInstructionIds(tok, 'Write the second word of the input', { numPos: 0, maxInstructionLength: 4 });
    expect(cut.ids).toHaveLength(4);
    expect(cut.truncation).toMatchObject({ text: 'instruction', maxTokens: 4, tokensAfter: 4 });
    expect(instructionText(task, 1)).toBe(prepareInstruction(task, { numPositive: 1 }).instruction);
  });
});
