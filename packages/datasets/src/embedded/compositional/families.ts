// Task families of the compositional suite. A family is a grid: every task is one (operation,
// argument) cell, its definition is the family's sentence with the operation's and the argument's
// phrases put in, and its rule is the composition of the two primitives. Held-out combinations are
// cells whose operation and argument both occur in training cells of the same family (and whose
// every instruction word occurs in training instructions); the held-out family composes primitives
// that training only shows in other families.
import type { DataRng } from '../../rng.js';
import { CLASSES, CLASS_PHRASES, CLASS_WORDS, LEXICON, classOfWord, numberWord, oppositeOf, withArticle, type ClassName } from './lexicon.js';

export const POSITIONS = ['first', 'second', 'third', 'fourth', 'last'] as const;
export type Position = (typeof POSITIONS)[number];
export const MAPPINGS = ['itself', 'category', 'opposite'] as const;
export type Mapping = (typeof MAPPINGS)[number];
export type Rank = 'first' | 'last';
export type Side = 'after' | 'before';
export type Question = 'count' | 'contains' | 'position';

/** Inputs are 4-6 words, so "fourth" always exists and "last" is not always the fourth. */
export const MIN_WORDS = 4;
export const MAX_WORDS = 6;

export interface Family<O = unknown, A = unknown> {
  readonly name: string;
  readonly summary: string;
  /** The whole family is held out (the hard column): no training task belongs to it. */
  readonly heldOutFamily: boolean;
  readonly ops: readonly O[];
  readonly args: readonly A[];
  /** Which cells exist (default all). */
  readonly includes?: (opIndex: number, argIndex: number) => boolean;
  /** Latin-square hold-out: cells held out as unseen combinations (ignored for a held-out family). */
  readonly heldOutCell: (opIndex: number, argIndex: number) => boolean;
  readonly opSlug: (o: O) => string;
  readonly argSlug: (a: A) => string;
  /** The primitive operations a cell uses, e.g. ['first', 'opposite']. */
  readonly operations: (o: O) => string[];
  readonly arguments: (a: A) => string[];
  /** Two paraphrases, built from the same phrases. */
  readonly definitions: (o: O, a: A) => string[];
  /** Short imperative used in explanations: "take the third word and write its opposite". */
  readonly rule: (o: O, a: A) => string;
  readonly sample: (rng: DataRng, o: O, a: A) => string[];
  readonly solve: (words: readonly string[], o: O, a: A) => string;
  /** A plausible wrong answer (what a neighbouring cell would answer), for negative examples. */
  readonly wrong: (words: readonly string[], o: O, a: A, rng: DataRng) => string;
}

// ---------------------------------------------------------------------------------------------
// primitives

function positionIndex(p: Position, n: number): number {
  return p === 'last' ? n - 1 : POSITIONS.indexOf(p);
}
function mapWord(w: string, m: Mapping): string {
  if (m === 'itself') return w;
  const out = m === 'category' ? classOfWord(w) : oppositeOf(w);
  if (out === undefined) throw new RangeError(`compositional suite: "${w}" is not in the lexicon`);
  return out;
}
const MAP_PHRASE: Record<Mapping, string> = {
  itself: 'it unchanged',
  category: 'the name of its category',
  opposite: 'its opposite',
};
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const one = (c: ClassName): string => CLASS_PHRASES[c].one;

function length(rng: DataRng): number {
  return rng.int(MIN_WORDS, MAX_WORDS);
}
/** A word of any class but `not` (or of any class). */
function otherWord(rng: DataRng, not?: ClassName): string {
  const classes = not === undefined ? CLASSES : CLASSES.filter((c) => c !== not);
  return rng.pick(CLASS_WORDS[rng.pick(classes)]);
}
/** n words, none of class `not`. */
function filler(rng: DataRng, n: number, not?: ClassName): string[] {
  return Array.from({ length: n }, () => otherWord(rng, not));
}
/** Put `k` members of `cls` at distinct random positions (distinct words while the class has them). */
function plantClass(rng: DataRng, words: string[], cls: ClassName, k: number): number[] {
  const positions = rng
    .shuffle(words.map((_, i) => i))
    .slice(0, k)
    .sort((a, b) => a - b);
  const members = rng.shuffle(CLASS_WORDS[cls]);
  positions.forEach((p, i) => {
    words[p] = members[i % members.length] as string;
  });
  return positions;
}
/** n words without `word`, then `k` copies of it at random positions. */
function plantWord(rng: DataRng, n: number, word: string, k: number): string[] {
  const words = Array.from({ length: n }, () => {
    let w = rng.pick(LEXICON);
    while (w === word) w = rng.pick(LEXICON);
    return w;
  });
  for (const p of rng.shuffle(words.map((_, i) => i)).slice(0, k)) words[p] = word;
  return words;
}
function differ(right: string, rng: DataRng, ...candidates: (string | undefined)[]): string {
  for (const c of candidates) if (c !== undefined && c !== right && c !== '') return c;
  let w = rng.pick(LEXICON);
  while (w === right) w = rng.pick(LEXICON);
  return w;
}
function shiftNumber(word: string, rng: DataRng): string {
  const n = ['zero', 'one', 'two', 'three', 'four', 'five', 'six'].indexOf(word);
  return numberWord(n <= 0 ? 1 : rng.next() < 0.5 ? n - 1 : n + 1);
}
/** Latin-square hold-out: cell (i, j) is held out when j - i ≡ 0 (mod k). */
const latin = (k: number) => (i: number, j: number) => (((j - i) % k) + k) % k === 0;

// ---------------------------------------------------------------------------------------------
// families

/** position selector × word mapping */
const positionMap: Family<Position, Mapping> = {
  name: 'position_map',
  summary: 'take the word at a position and map it (itself, its category, its opposite)',
  heldOutFamily: false,
  ops: POSITIONS,
  args: MAPPINGS,
  heldOutCell: latin(3),
  opSlug: (p) => p,
  argSlug: (m) => m,
  operations: (p) => [p],
  arguments: (m) => [m],
  definitions: (p, m) => [
    `From the input, take the ${p} word and write ${MAP_PHRASE[m]}.`,
    `Look at the word in ${p} position in the input; output ${MAP_PHRASE[m]}.`,
  ],
  rule: (p, m) => `take the ${p} word and write ${MAP_PHRASE[m]}`,
  sample: (rng) => filler(rng, length(rng)),
  solve: (w, p, m) => mapWord(w[positionIndex(p, w.length)] as string, m),
  wrong: (w, p, m, rng) => {
    const i = positionIndex(p, w.length);
    const right = mapWord(w[i] as string, m);
    const near = w[i === 0 ? 1 : i - 1] as string;
    return differ(right, rng, mapWord(near, m), m === 'itself' ? undefined : w[i]);
  },
};

/** (first | last member of a class) × (itself | opposite) */
type ClassPick = readonly [Rank, 'itself' | 'opposite'];
const classMap: Family<ClassPick, ClassName> = {
  name: 'class_map',
  summary: 'find the first or last word of a class and write it or its opposite',
  heldOutFamily: false,
  ops: [
    ['first', 'itself'],
    ['last', 'itself'],
    ['first', 'opposite'],
    ['last', 'opposite'],
  ],
  args: CLASSES,
  heldOutCell: latin(4),
  opSlug: ([r, m]) => `${r}_${m}`,
  argSlug: (c) => c,
  operations: ([r, m]) => [r, m],
  arguments: (c) => [c],
  definitions: ([r, m], c) => [
    `Find the ${r} ${one(c)} in the input and write ${MAP_PHRASE[m]}.`,
    `Among the words of the input, locate the ${r} ${one(c)}; output ${MAP_PHRASE[m]}.`,
  ],
  rule: ([r, m], c) => `find the ${r} ${one(c)} and write ${MAP_PHRASE[m]}`,
  sample: (rng, _o, c) => {
    const words = filler(rng, length(rng), c);
    plantClass(rng, words, c, rng.int(2, 3));
    return words;
  },
  solve: (w, [r, m], c) => {
    const members = w.filter((x) => classOfWord(x) === c);
    const hit = r === 'first' ? members[0] : members[members.length - 1];
    return hit === undefined ? 'none' : mapWord(hit, m);
  },
  wrong: (w, [r, m], c, rng) => {
    const members = w.filter((x) => classOfWord(x) === c);
    const right = classMap.solve(w, [r, m], c);
    const other = r === 'first' ? members[members.length - 1] : members[0];
    return differ(
      right,
      rng,
      other === undefined ? undefined : mapWord(other, m),
      m === 'opposite' ? (r === 'first' ? members[0] : members[members.length - 1]) : undefined,
    );
  },
};

function questionSample(rng: DataRng, q: Question, plant: (n: number, k: number) => string[]): string[] {
  const n = length(rng);
  // count: 0-3 members; contains: none half of the time; position: 1-2 members.
  const k = q === 'count' ? rng.int(0, 3) : q === 'contains' ? (rng.next() < 0.5 ? 0 : rng.int(1, 2)) : rng.int(1, 2);
  return plant(n, k);
}
function questionSolve(w: readonly string[], q: Question, hit: (x: string) => boolean): string {
  if (q === 'count') return numberWord(w.filter(hit).length);
  if (q === 'contains') return yesNo(w.some(hit));
  const i = w.findIndex(hit);
  return i < 0 ? 'none' : numberWord(i + 1);
}
function questionWrong(right: string, q: Question, rng: DataRng): string {
  if (q === 'contains') return right === 'yes' ? 'no' : 'yes';
  return shiftNumber(right, rng);
}

/** (count | contains | position of the first) × class */
const classQuestion: Family<Question, ClassName> = {
  name: 'class_question',
  summary: 'count the words of a class, say whether there is one, or give the position of the first one',
  heldOutFamily: false,
  ops: ['count', 'contains', 'position'],
  args: CLASSES,
  heldOutCell: latin(3),
  opSlug: (q) => q,
  argSlug: (c) => c,
  operations: (q) => [q],
  arguments: (c) => [c],
  definitions: (q, c) =>
    q === 'count'
      ? [
          // Singular class names, as in every other template: a held-out (count, class) cell must
          // not need a word ("colors") that only its own template would use.
          `Count how many times ${withArticle(one(c))} occurs in the input and write the count as a number word.`,
          `How many times does ${withArticle(one(c))} occur in the input? Answer with a number word.`,
        ]
      : q === 'contains'
        ? [
            `Check whether the input contains ${withArticle(one(c))}. Answer yes or no.`,
            `Is there ${withArticle(one(c))} among the words of the input? Answer yes or no.`,
          ]
        : [
            `Write the position of the first ${one(c)} in the input as a number word.`,
            `At which position of the input is the first ${one(c)}? Answer with a number word.`,
          ],
  rule: (q, c) =>
    q === 'count'
      ? `count the words that are ${withArticle(one(c))}`
      : q === 'contains'
        ? `check for ${withArticle(one(c))}`
        : `give the position of the first ${one(c)}`,
  sample: (rng, q, c) =>
    questionSample(rng, q, (n, k) => {
      const words = filler(rng, n, c);
      plantClass(rng, words, c, k);
      return words;
    }),
  solve: (w, q, c) => questionSolve(w, q, (x) => classOfWord(x) === c),
  wrong: (w, q, c, rng) => questionWrong(classQuestion.solve(w, q, c), q, rng),
};

/** "is the k-th word a <class>" */
const positionIsClass: Family<Position, ClassName> = {
  name: 'position_is_class',
  summary: 'say whether the word at a position belongs to a class',
  heldOutFamily: false,
  ops: POSITIONS,
  args: CLASSES,
  heldOutCell: latin(4),
  opSlug: (p) => p,
  argSlug: (c) => c,
  operations: (p) => [p],
  arguments: (c) => [c],
  definitions: (p, c) => [
    `Is the ${p} word of the input ${withArticle(one(c))}? Answer yes or no.`,
    `Check whether the word in ${p} position in the input is ${withArticle(one(c))}. Answer yes or no.`,
  ],
  rule: (p, c) => `check whether the ${p} word is ${withArticle(one(c))}`,
  sample: (rng, p, c) => {
    const words = filler(rng, length(rng), c);
    const i = positionIndex(p, words.length);
    // Half the answers are yes; a member elsewhere half of the time, so "contains" is no shortcut.
    if (rng.next() < 0.5) words[i] = rng.pick(CLASS_WORDS[c]);
    if (rng.next() < 0.5) {
      const j = rng.pick(words.map((_, k) => k).filter((k) => k !== i));
      words[j] = rng.pick(CLASS_WORDS[c]);
    }
    return words;
  },
  solve: (w, p, c) => yesNo(classOfWord(w[positionIndex(p, w.length)] as string) === c),
  wrong: (w, p, c) => (positionIsClass.solve(w, p, c) === 'yes' ? 'no' : 'yes'),
};

/** Inputs with a first member of `c` that has both neighbours. */
function neighborSample(rng: DataRng, c: ClassName): string[] {
  const words = filler(rng, length(rng), c);
  const p = rng.int(1, words.length - 2);
  words[p] = rng.pick(CLASS_WORDS[c]);
  if (rng.next() < 0.5 && p + 2 < words.length) words[rng.int(p + 2, words.length - 1)] = rng.pick(CLASS_WORDS[c]);
  return words;
}
function neighborOf(w: readonly string[], side: Side, c: ClassName): string | undefined {
  const i = w.findIndex((x) => classOfWord(x) === c);
  return i < 0 ? undefined : w[side === 'after' ? i + 1 : i - 1];
}
function otherNeighbor(w: readonly string[], side: Side, c: ClassName): string | undefined {
  return neighborOf(w, side === 'after' ? 'before' : 'after', c);
}

/** the word directly after | before the first <class> */
const neighbor: Family<Side, ClassName> = {
  name: 'neighbor',
  summary: 'write the word directly after or before the first word of a class',
  heldOutFamily: false,
  ops: ['after', 'before'],
  args: CLASSES,
  heldOutCell: latin(4),
  opSlug: (s) => s,
  argSlug: (c) => c,
  operations: (s) => [s],
  arguments: (c) => [c],
  definitions: (s, c) => [
    `Find the first ${one(c)} in the input and write the word that comes directly ${s} it.`,
    `Among the words of the input, locate the first ${one(c)}; output the word directly ${s} it.`,
  ],
  rule: (s, c) => `write the word directly ${s} the first ${one(c)}`,
  sample: (rng, _s, c) => neighborSample(rng, c),
  solve: (w, s, c) => neighborOf(w, s, c) ?? 'none',
  wrong: (w, s, c, rng) => differ(neighbor.solve(w, s, c), rng, otherNeighbor(w, s, c)),
};

/** Two words of each class (not a pair of opposites) are the arguments of the word questions. */
export const QUESTION_WORDS: readonly string[] = CLASSES.flatMap((c) => [CLASS_WORDS[c][0], CLASS_WORDS[c][3]]);

/** (count | contains | position of the first) × a given word */
const wordQuestion: Family<Question, string> = {
  name: 'word_question',
  summary: 'count a given word, say whether it occurs, or give the position of its first occurrence',
  heldOutFamily: false,
  ops: ['count', 'contains', 'position'],
  args: QUESTION_WORDS,
  heldOutCell: latin(4),
  opSlug: (q) => q,
  argSlug: (w) => w,
  operations: (q) => [q],
  arguments: (w) => [w],
  definitions: (q, w) =>
    q === 'count'
      ? [
          `Count how many times the word ${w} occurs in the input and write the count as a number word.`,
          `How many times does the word ${w} occur in the input? Answer with a number word.`,
        ]
      : q === 'contains'
        ? [`Check whether the input contains the word ${w}. Answer yes or no.`, `Is the word ${w} among the words of the input? Answer yes or no.`]
        : [
            `Write the position of the first occurrence of the word ${w} in the input as a number word.`,
            `At which position of the input is the first occurrence of the word ${w}? Answer with a number word.`,
          ],
  rule: (q, w) => (q === 'count' ? `count the word ${w}` : q === 'contains' ? `check for the word ${w}` : `give the position of the first ${w}`),
  sample: (rng, q, word) => questionSample(rng, q, (n, k) => plantWord(rng, n, word, k)),
  solve: (w, q, word) => questionSolve(w, q, (x) => x === word),
  wrong: (w, q, word, rng) => questionWrong(wordQuestion.solve(w, q, word), q, rng),
};

/** Held-out family: (after | before the first <class>) composed with (opposite | category). */
type NeighborMap = readonly [Side, 'opposite' | 'category'];
const NEIGHBOR_MAP_PHRASE = { opposite: 'the opposite', category: 'the name of the category' } as const;
const neighborMap: Family<NeighborMap, ClassName> = {
  name: 'neighbor_map',
  summary: 'map (opposite, category) the word directly after or before the first word of a class',
  heldOutFamily: true,
  ops: [
    ['after', 'opposite'],
    ['before', 'opposite'],
    ['after', 'category'],
    ['before', 'category'],
  ],
  args: CLASSES,
  // Half of the 32 cells (a checkerboard): every class with every side and both mappings.
  includes: (i, j) => (i + j) % 2 === 0,
  heldOutCell: () => false,
  opSlug: ([s, m]) => `${s}_${m}`,
  argSlug: (c) => c,
  operations: ([s, m]) => [s, m],
  arguments: (c) => [c],
  definitions: ([s, m], c) => [
    `Find the first ${one(c)} in the input, take the word that comes directly ${s} it and write ${MAP_PHRASE[m]}.`,
    `Among the words of the input, locate the first ${one(c)}; output ${NEIGHBOR_MAP_PHRASE[m]} of the word directly ${s} it.`,
  ],
  rule: ([s, m], c) => `take the word directly ${s} the first ${one(c)} and write ${MAP_PHRASE[m]}`,
  sample: (rng, _o, c) => neighborSample(rng, c),
  solve: (w, [s, m], c) => {
    const n = neighborOf(w, s, c);
    return n === undefined ? 'none' : mapWord(n, m);
  },
  wrong: (w, [s, m], c, rng) => {
    const right = neighborMap.solve(w, [s, m], c);
    const o = otherNeighbor(w, s, c);
    return differ(right, rng, o === undefined ? undefined : mapWord(o, m), neighborOf(w, s, c));
  },
};

/** Inputs with exactly one occurrence of `word`, at a position that has both neighbours. */
function wordNeighborSample(rng: DataRng, word: string): string[] {
  const words = plantWord(rng, length(rng), word, 0);
  words[rng.int(1, words.length - 2)] = word;
  return words;
}
function wordNeighborOf(w: readonly string[], side: Side, word: string): string | undefined {
  const i = w.indexOf(word);
  return i < 0 ? undefined : w[side === 'after' ? i + 1 : i - 1];
}

/** Three words of each class, no two of them opposites: the arguments of the word-neighbour family. */
export const NEIGHBOR_WORDS: readonly string[] = CLASSES.flatMap((c) => [CLASS_WORDS[c][0], CLASS_WORDS[c][2], CLASS_WORDS[c][4]]);

/** the word directly after | before a given word (compositional-v2) */
const wordNeighbor: Family<Side, string> = {
  name: 'word_neighbor',
  summary: 'write the word directly after or before a given word',
  heldOutFamily: false,
  ops: ['after', 'before'],
  args: NEIGHBOR_WORDS,
  heldOutCell: latin(2),
  opSlug: (s) => s,
  argSlug: (w) => w,
  operations: (s) => [s],
  arguments: (w) => [w],
  definitions: (s, w) => [
    `Find the word ${w} in the input and write the word that comes directly ${s} it.`,
    `Among the words of the input, locate the word ${w}; output the word directly ${s} it.`,
  ],
  rule: (s, w) => `write the word directly ${s} the word ${w}`,
  sample: (rng, _s, w) => wordNeighborSample(rng, w),
  solve: (w, s, word) => wordNeighborOf(w, s, word) ?? 'none',
  wrong: (w, s, word, rng) => differ(wordNeighbor.solve(w, s, word), rng, wordNeighborOf(w, s === 'after' ? 'before' : 'after', word)),
};

const fam = <O, A>(f: Family<O, A>): Family => f as unknown as Family;

/** compositional-v1's families, training-bearing ones first. */
export const FAMILIES: readonly Family[] = [
  fam(positionMap),
  fam(classMap),
  fam(classQuestion),
  fam(positionIsClass),
  fam(neighbor),
  fam(wordQuestion),
  fam(neighborMap),
];

/**
 * compositional-v2's families: v1's grids with more held-out cells (a Latin square of period 2 where v1
 * had 4), the word questions over every word of the lexicon, and the word-neighbour family — 153 held-out
 * combinations (v1: 47) from 166 training tasks (v1: 128), every operation and argument of a held-out
 * cell still trained in another cell of its family. The held-out family is v1's.
 */
export const FAMILIES_V2: readonly Family[] = [
  fam(positionMap),
  fam({ ...classMap, heldOutCell: latin(2) }),
  fam(classQuestion),
  fam({ ...positionIsClass, heldOutCell: latin(2) }),
  fam({ ...neighbor, heldOutCell: latin(2) }),
  fam({ ...wordQuestion, args: LEXICON, heldOutCell: latin(2) }),
  fam(wordNeighbor),
  fam(neighborMap),
];
