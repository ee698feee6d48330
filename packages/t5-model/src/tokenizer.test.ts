import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefaultT5Tokenizer } from './node.js';

const sharedDir = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared');
const goldenDir = path.join(sharedDir, 'golden', 'tokenizer');
const hasGolden = fs.existsSync(goldenDir);

interface Row {
  id: number;
  text: string;
  ids: number[];
  ids_no_special: number[];
  decoded: string;
  decoded_no_cleanup: string;
}

describe.skipIf(!hasGolden)('T5Tokenizer vs HF T5TokenizerFast golden (../shared/golden/tokenizer absent: skipped)', () => {
  const tok = loadDefaultT5Tokenizer();
  const rows: Row[] = hasGolden
    ? fs
        .readFileSync(path.join(goldenDir, 'strings.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Row)
    : [];

  it('has the standard ids', () => {
    expect([tok.padTokenId, tok.eosTokenId, tok.unkTokenId, tok.vocabSize]).toEqual([0, 1, 2, 32100]);
  });

  it('encodes all 160 strings like HF', () => {
    for (const r of rows) {
      expect(tok.encode(r.text), `row ${r.id}`).toEqual(r.ids);
      expect(tok.encode(r.text, { addSpecialTokens: false }), `row ${r.id}`).toEqual(r.ids_no_special);
    }
  });

  it('gives the same ids the second time a text is encoded, whatever the caller did to the first result', () => {
    const fresh = loadDefaultT5Tokenizer();
    for (const r of rows) {
      const first = fresh.encode(r.text, { addSpecialTokens: false });
      first.push(999, 998);
      first.reverse();
      expect(fresh.encode(r.text, { addSpecialTokens: false }), `row ${r.id}`).toEqual(r.ids_no_special);
      expect(fresh.encode(r.text), `row ${r.id}`).toEqual(r.ids);
      const cut = fresh.encode(r.text, { maxLength: 3 });
      expect(cut, `row ${r.id}`).toEqual([...r.ids_no_special.slice(0, 2), 1]);
      expect(fresh.encode(r.text, { addSpecialTokens: false }), `row ${r.id}`).toEqual(r.ids_no_special);
    }
  });

  it('decodes like HF, with and without clean-up', () => {
    for (const r of rows) {
      expect(tok.decode(r.ids), `row ${r.id}`).toBe(r.decoded);
      expect(tok.decode(r.ids, { cleanUpTokenizationSpaces: false }), `row ${r.id}`).toBe(r.decoded_no_cleanup);
    }
  });

  it('batch-encodes with padding and truncation keeping eos last', () => {
    const b = JSON.parse(fs.readFileSync(path.join(goldenDir, 'batch.json'), 'utf8')) as {
      strings: string[];
      input_ids: number[][];
      attention_mask: number[][];
    };
    const out = tok.encodeBatch(b.strings, { padding: 'longest', truncation: true, maxLength: 16 });
    expect(out.inputIds).toEqual(b.input_ids);
    expect(out.attentionMask).toEqual(b.attention_mask);
  });

  it('rejects bad input with the argument named', () => {
    expect(() => tok.encodeBatch(['a', 3 as unknown as string])).toThrow(/texts\[1\]/);
    expect(() => tok.encodeBatch(['a'], { padding: 'max_length' })).toThrow(/maxLength/);
  });
});
