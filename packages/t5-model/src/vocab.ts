// Vocabulary pruning for small experiments: keep only the ids a corpus uses, so the embedding and the
// LM head shrink from 32k rows to a few thousand. A model built on a pruned vocabulary has
// vocab_size = the compact size; the map is saved beside it (`pruned_vocab.json`) to translate back.

export const PRUNED_VOCAB_FILE = 'pruned_vocab.json';

export class VocabMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VocabMapError';
  }
}

export interface PrunedVocabJson {
  format: 'tagi-pruned-vocab';
  version: 1;
  original_vocab_size: number;
  /** compact id i ↔ original id kept_ids[i] */
  kept_ids: number[];
  unk_compact_id: number;
}

export class VocabMap {
  /** Compact id i stands for original id keptIds[i]. */
  readonly keptIds: readonly number[];
  readonly originalVocabSize: number;
  /** Compact id that original ids outside the map become. */
  readonly unkCompactId: number;
  private readonly toCompactMap: Map<number, number>;

  constructor(keptIds: readonly number[], originalVocabSize: number, unkCompactId: number) {
    const seen = new Map<number, number>();
    keptIds.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= originalVocabSize) throw new VocabMapError(`keptIds[${i}]: ${id} is not an id below ${originalVocabSize}`);
      if (seen.has(id)) throw new VocabMapError(`keptIds[${i}]: ${id} appears twice`);
      seen.set(id, i);
    });
    if (!Number.isInteger(unkCompactId) || unkCompactId < 0 || unkCompactId >= keptIds.length) {
      throw new VocabMapError(`unkCompactId: ${unkCompactId} is not below the compact size ${keptIds.length}`);
    }
    this.keptIds = Object.freeze([...keptIds]);
    this.originalVocabSize = originalVocabSize;
    this.unkCompactId = unkCompactId;
    this.toCompactMap = seen;
  }

  /** The compact vocabulary size: the vocab_size of a model built on this map. */
  get size(): number {
    return this.keptIds.length;
  }

  /** Original ids → compact ids (ids outside the map become the compact unk). */
  toCompact(ids: readonly number[]): number[] {
    return ids.map((id) => this.toCompactMap.get(id) ?? this.unkCompactId);
  }

  /** Compact ids → original ids (negative ids such as the -100 label pass through). */
  toOriginal(ids: readonly number[]): number[] {
    return ids.map((id, i) => {
      if (id < 0) return id;
      const o = this.keptIds[id];
      if (o === undefined) throw new VocabMapError(`ids[${i}]: compact id ${id} is not below ${this.size}`);
      return o;
    });
  }

  has(originalId: number): boolean {
    return this.toCompactMap.has(originalId);
  }

  toJson(): PrunedVocabJson {
    return {
      format: 'tagi-pruned-vocab',
      version: 1,
      original_vocab_size: this.originalVocabSize,
      kept_ids: [...this.keptIds],
      unk_compact_id: this.unkCompactId,
    };
  }

  static fromJson(json: unknown, source = PRUNED_VOCAB_FILE): VocabMap {
    const o = json as Partial<PrunedVocabJson> | null;
    const problems: string[] = [];
    if (typeof o !== 'object' || o === null) throw new VocabMapError(`${source}: expected a JSON object`);
    if (o.format !== 'tagi-pruned-vocab') problems.push(`format: expected 'tagi-pruned-vocab', got ${JSON.stringify(o.format)}`);
    if (o.version !== 1) problems.push(`version: expected 1, got ${JSON.stringify(o.version)}`);
    if (!Number.isInteger(o.original_vocab_size)) problems.push('original_vocab_size: expected an integer');
    if (!Array.isArray(o.kept_ids)) problems.push('kept_ids: expected an array of ids');
    if (!Number.isInteger(o.unk_compact_id)) problems.push('unk_compact_id: expected an integer');
    if (problems.length > 0) throw new VocabMapError(`${source}:\n  ${problems.join('\n  ')}`);
    return new VocabMap(o.kept_ids as number[], o.original_vocab_size as number, o.unk_compact_id as number);
  }
}

export interface BuildVocabMapOptions {
  /** Size of the original vocabulary (32,128 rows for the standard T5 checkpoints). */
  originalVocabSize: number;
  /** Ids kept first, in this order, so they keep their numbers (default pad 0, eos 1, unk 2). */
  reservedIds?: readonly number[];
  /** Which reserved id unknown ids map to (default 2, T5's unk). */
  unkId?: number;
  /** Keep the first n T5 sentinels `<extra_id_0..n-1>` (ids firstSentinelId, firstSentinelId-1, ...). Default 0. */
  sentinels?: number;
  /** Id of `<extra_id_0>` (32,099 in the standard vocabulary). */
  firstSentinelId?: number;
}

/** Map the ids a corpus uses (rows of original ids) to a compact vocabulary. Deterministic: reserved ids, then sorted ids. */
export function buildVocabMap(corpus: Iterable<readonly number[]>, opts: BuildVocabMapOptions): VocabMap {
  const reserved = opts.reservedIds ?? [0, 1, 2];
  const unkId = opts.unkId ?? 2;
  const unkCompact = reserved.indexOf(unkId);
  if (unkCompact < 0) throw new VocabMapError(`unkId: ${unkId} must be one of reservedIds [${reserved.join(', ')}]`);
  const used = new Set<number>();
  let row = 0;
  for (const ids of corpus) {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= opts.originalVocabSize)
        throw new VocabMapError(`corpus[${row}]: id ${id} is not below originalVocabSize ${opts.originalVocabSize}`);
      used.add(id);
    }
    row++;
  }
  const first = opts.firstSentinelId ?? 32099;
  for (let s = 0; s < (opts.sentinels ?? 0); s++) used.add(first - s);
  for (const r of reserved) used.delete(r);
  return new VocabMap([...reserved, ...[...used].sort((a, b) => a - b)], opts.originalVocabSize, unkCompact);
}

/** What a tokenizer over a compact vocabulary must offer (T5Tokenizer has the same shape). */
interface FullTokenizer {
  readonly padTokenId: number;
  readonly eosTokenId: number;
  readonly unkTokenId: number;
  encode(text: string, opts?: { addSpecialTokens?: boolean; maxLength?: number }): number[];
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean; cleanUpTokenizationSpaces?: boolean }): string;
}

/** A tokenizer speaking compact ids: encodes with the full tokenizer, then maps; decodes by mapping back. */
export class PrunedTokenizer {
  readonly padTokenId: number;
  readonly eosTokenId: number;
  readonly unkTokenId: number;
  readonly vocabSize: number;
  constructor(
    readonly base: FullTokenizer,
    readonly map: VocabMap,
  ) {
    const [pad, eos, unk] = map.toCompact([base.padTokenId, base.eosTokenId, base.unkTokenId]) as [number, number, number];
    if (!map.has(base.padTokenId) || !map.has(base.eosTokenId)) throw new VocabMapError('PrunedTokenizer: the map must keep the pad and eos ids');
    this.padTokenId = pad;
    this.eosTokenId = eos;
    this.unkTokenId = unk;
    this.vocabSize = map.size;
  }

  encode(text: string, opts?: { addSpecialTokens?: boolean; maxLength?: number }): number[] {
    return this.map.toCompact(this.base.encode(text, opts));
  }

  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean; cleanUpTokenizationSpaces?: boolean }): string {
    return this.base.decode(this.map.toOriginal(ids), opts);
  }

  decodeBatch(rows: readonly (readonly number[])[], opts?: { skipSpecialTokens?: boolean; cleanUpTokenizationSpaces?: boolean }): string[] {
    return rows.map((r) => this.decode(r, opts));
  }
}
