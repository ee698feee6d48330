// The T5 tokenizer: HF `tokenizer.json` + `tokenizer_config.json` through `@huggingface/tokenizers`, with
// the batch encoding (padding, truncation keeping eos last) and decoding HF's T5TokenizerFast does.
import { Tokenizer } from '@huggingface/tokenizers';

export interface EncodeBatchOptions {
  /** 'longest' pads to the longest row, 'max_length' to maxLength, false leaves rows ragged. Default 'longest'. */
  padding?: 'longest' | 'max_length' | false;
  /** Cut rows to at most this many ids (eos kept as the last id, as HF does). */
  maxLength?: number;
  /** Default true when maxLength is given. */
  truncation?: boolean;
  /** Append eos. Default true. */
  addSpecialTokens?: boolean;
}

export interface EncodedBatch {
  inputIds: number[][];
  attentionMask: number[][];
}

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

export class T5Tokenizer {
  readonly padTokenId: number;
  readonly eosTokenId: number;
  readonly unkTokenId: number;
  /** Number of ids the tokenizer can emit (32,100 for the standard T5 vocabulary). */
  readonly vocabSize: number;
  private readonly inner: Tokenizer;
  private readonly cleanUp: boolean;
  /**
   * Ids of texts already tokenized (before eos and truncation). A run tokenizes the same training inputs once
   * per stage, variant and seed, and the Unigram lattice costs ≈ 0.1 ms a string: 42k inputs three times per
   * hypernetwork stage was ≈ 15 s before every stage of the demo. Bounded: emptied when it holds
   * {@link T5Tokenizer.MEMO_ENTRIES} texts.
   */
  private readonly memo = new Map<string, readonly number[]>();
  /** Texts the encode memo holds before it is emptied (≈ 50 MB of short strings and ids at most). */
  static readonly MEMO_ENTRIES = 200_000;

  constructor(tokenizerJson: object, tokenizerConfig: object = {}) {
    this.inner = new Tokenizer(tokenizerJson, tokenizerConfig);
    const cfg = tokenizerConfig as Record<string, unknown>;
    const tok = (key: string, fallback: string): number => {
      const raw = cfg[key];
      const name =
        typeof raw === 'string' ? raw : typeof raw === 'object' && raw !== null && 'content' in raw ? String((raw as { content: unknown }).content) : fallback;
      const id = this.inner.token_to_id(name);
      if (id === undefined) throw new TokenizerError(`tokenizer_config.json: ${key} '${name}' is not in the vocabulary`);
      return id;
    };
    this.padTokenId = tok('pad_token', '<pad>');
    this.eosTokenId = tok('eos_token', '</s>');
    this.unkTokenId = tok('unk_token', '<unk>');
    this.cleanUp = cfg['clean_up_tokenization_spaces'] === true;
    let max = -1;
    for (const id of this.inner.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  /** Ids of one string; eos appended unless addSpecialTokens is false. */
  encode(text: string, opts: { addSpecialTokens?: boolean; maxLength?: number } = {}): number[] {
    if (typeof text !== 'string') throw new TokenizerError(`encode(text): expected a string, got ${typeof text}`);
    const add = opts.addSpecialTokens ?? true;
    let ids = this.pieces(text);
    if (opts.maxLength !== undefined) {
      const room = opts.maxLength - (add ? 1 : 0);
      if (room < 0) throw new TokenizerError(`maxLength: ${opts.maxLength} leaves no room for eos`);
      if (ids.length > room) ids = ids.slice(0, room);
    }
    return add ? [...ids, this.eosTokenId] : ids;
  }

  /** The text's ids without eos, a fresh array the caller may keep or change (the memo keeps its own copy). */
  private pieces(text: string): number[] {
    const known = this.memo.get(text);
    if (known !== undefined) return known.slice();
    const ids = this.inner.encode(text, { add_special_tokens: false }).ids;
    if (this.memo.size >= T5Tokenizer.MEMO_ENTRIES) this.memo.clear();
    this.memo.set(text, ids.slice());
    return ids;
  }

  /** Encode many strings at once, right-padded with the pad id and a 0 attention mask on padding. */
  encodeBatch(texts: readonly string[], opts: EncodeBatchOptions = {}): EncodedBatch {
    if (!Array.isArray(texts)) throw new TokenizerError('encodeBatch(texts): expected an array of strings');
    const truncation = opts.truncation ?? opts.maxLength !== undefined;
    const padding = opts.padding ?? 'longest';
    if (padding === 'max_length' && opts.maxLength === undefined) throw new TokenizerError("encodeBatch: padding 'max_length' needs maxLength");
    const rows = texts.map((t, i) => {
      if (typeof t !== 'string') throw new TokenizerError(`encodeBatch(texts[${i}]): expected a string, got ${typeof t}`);
      return this.encode(t, { addSpecialTokens: opts.addSpecialTokens, maxLength: truncation ? opts.maxLength : undefined });
    });
    return padBatch(
      rows,
      this.padTokenId,
      padding === false ? undefined : padding === 'max_length' ? opts.maxLength : Math.max(0, ...rows.map((r) => r.length)),
    );
  }

  /** Text of ids; special tokens skipped by default; spaces cleaned as tokenizer_config.json says. */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean; cleanUpTokenizationSpaces?: boolean } = {}): string {
    return this.inner.decode([...ids], {
      skip_special_tokens: opts.skipSpecialTokens ?? true,
      clean_up_tokenization_spaces: opts.cleanUpTokenizationSpaces ?? this.cleanUp,
    });
  }

  decodeBatch(rows: readonly (readonly number[])[], opts: { skipSpecialTokens?: boolean; cleanUpTokenizationSpaces?: boolean } = {}): string[] {
    return rows.map((r) => this.decode(r, opts));
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }
}

/** Right-pad rows to `length` (rows longer than it are left as they are when length is undefined). */
export function padBatch(rows: readonly (readonly number[])[], padId: number, length?: number): EncodedBatch {
  const inputIds: number[][] = [];
  const attentionMask: number[][] = [];
  for (const r of rows) {
    const n = length ?? r.length;
    inputIds.push([...r, ...new Array<number>(Math.max(0, n - r.length)).fill(padId)]);
    attentionMask.push([...new Array<number>(r.length).fill(1), ...new Array<number>(Math.max(0, n - r.length)).fill(0)]);
  }
  return { inputIds, attentionMask };
}
