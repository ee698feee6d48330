import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildVocabMap, PrunedTokenizer, VocabMap, VocabMapError } from './vocab.js';
import { collateIds, collateSeq2Seq, shiftRight } from './collator.js';
import { loadDefaultT5Tokenizer } from './node.js';

const goldenT5 = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'golden', 't5');

describe('VocabMap', () => {
  it('keeps reserved ids first, maps back and forth, and sends unseen ids to unk', () => {
    const m = buildVocabMap(
      [
        [5, 9, 1],
        [9, 300],
      ],
      { originalVocabSize: 32128, sentinels: 2 },
    );
    expect(m.keptIds).toEqual([0, 1, 2, 5, 9, 300, 32098, 32099]);
    expect(m.size).toBe(8);
    expect(m.toCompact([9, 1, 7, 32099])).toEqual([4, 1, 2, 7]);
    expect(m.toOriginal([4, 1, -100, 7])).toEqual([9, 1, -100, 32099]);
    expect(() => m.toOriginal([8])).toThrow(VocabMapError);
  });

  it('round-trips through JSON and rejects malformed files naming the fields', () => {
    const m = buildVocabMap([[3, 4]], { originalVocabSize: 10 });
    const back = VocabMap.fromJson(JSON.parse(JSON.stringify(m.toJson())));
    expect(back.keptIds).toEqual(m.keptIds);
    expect(back.unkCompactId).toBe(2);
    expect(() => VocabMap.fromJson({ format: 'x', kept_ids: 3 })).toThrow(/format[\s\S]*version[\s\S]*original_vocab_size[\s\S]*kept_ids/);
    expect(() => buildVocabMap([[10]], { originalVocabSize: 10 })).toThrow(/corpus\[0\]/);
  });

  it('wraps the tokenizer so text round-trips through compact ids', () => {
    const tok = loadDefaultT5Tokenizer();
    const texts = ['Translate to German: the house is small.', 'Is the sentiment positive?'];
    const m = buildVocabMap(
      texts.map((t) => tok.encode(t)),
      { originalVocabSize: 32128 },
    );
    const p = new PrunedTokenizer(tok, m);
    expect(p.vocabSize).toBe(m.size);
    expect(p.vocabSize).toBeLessThan(40);
    for (const t of texts) {
      const ids = p.encode(t);
      expect(Math.max(...ids)).toBeLessThan(m.size);
      expect(p.decode(ids)).toBe(tok.decode(tok.encode(t)));
    }
    expect(p.encode('zebra')).toContain(2);
  });
});

describe('collator', () => {
  it.skipIf(!fs.existsSync(goldenT5))('shiftRight equals HF _shift_right on the goldens', () => {
    for (const name of ['tiny-relu-tied', 'tiny-gated-untied']) {
      const inputs = JSON.parse(fs.readFileSync(path.join(goldenT5, name, 'inputs.json'), 'utf8')) as { labels: number[][] };
      const expected = JSON.parse(fs.readFileSync(path.join(goldenT5, name, 'expected.json'), 'utf8')) as { decoder_input_ids: number[][] };
      expect(shiftRight(inputs.labels, 0, 0)).toEqual(expected.decoder_input_ids);
    }
  });

  it('pads inputs with pad/0-mask and labels with -100', () => {
    const b = collateIds(
      [
        [5, 6, 1],
        [7, 1],
      ],
      [
        [8, 1],
        [9, 10, 11, 1],
      ],
      0,
    );
    expect(b.inputIds).toEqual([
      [5, 6, 1],
      [7, 1, 0],
    ]);
    expect(b.attentionMask).toEqual([
      [1, 1, 1],
      [1, 1, 0],
    ]);
    expect(b.labels).toEqual([
      [8, 1, -100, -100],
      [9, 10, 11, 1],
    ]);
    expect(b.decoderInputIds).toEqual([
      [0, 8, 1, 0],
      [0, 9, 10, 11],
    ]);
  });

  it('collates text pairs with truncation keeping eos', () => {
    const tok = loadDefaultT5Tokenizer();
    const b = collateSeq2Seq(
      [
        { input: 'a long input sentence with many words in it', target: 'yes' },
        { input: 'hi', target: 'no it is not' },
      ],
      tok,
      { maxSourceLength: 5, maxTargetLength: 3 },
    );
    expect(b.inputIds[0]).toHaveLength(5);
    expect(b.inputIds[0]?.[4]).toBe(1);
    expect(b.labels[1]).toHaveLength(3);
    expect(b.labels[1]?.[2]).toBe(1);
    expect(b.labels[0]?.at(-1)).toBe(-100);
  });
});
