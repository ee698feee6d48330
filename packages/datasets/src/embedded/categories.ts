// The embedded suite's task categories. Every category maps the SAME kind of input (a short list of
// common words drawn from mixed classes) to a different output, so the instruction decides the answer.
// A category is a family of tasks indexed by a parameter (k, a word class, a word pair, a relation…).
import type { DataRng } from '../rng.js';
import { CLASS_LABELS, CLASS_NAMES, RELATIONS, WORD_CLASSES, classOf, numberValue, numberWord, type Relation, type WordClass } from './lexicon.js';

export interface Category<P = unknown> {
  /** Category id, also the prefix of its task ids. */
  readonly name: string;
  /** One-line description for READMEs and reports. */
  readonly summary: string;
  /** The whole category is held out (never seen in training). */
  readonly heldOut?: boolean;
  readonly params: readonly P[];
  /** Indices into `params` whose tasks are held out (new parameter values / combinations). */
  readonly heldOutParams?: readonly number[];
  slug(p: P): string;
  /** At least three paraphrased definitions. */
  definitions(p: P): string[];
  /** Short imperative rule used in explanations: "take the third word". */
  rule(p: P): string;
  sample(rng: DataRng, p: P): string[];
  solve(words: readonly string[], p: P): string;
  /** A plausible wrong answer (a different rule's output), used for negative examples. */
  wrong(words: readonly string[], p: P, rng: DataRng): string;
}

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'];
function ordinal(k: number): string {
  return ORDINALS[k - 1] ?? `${k}th`;
}
const ALL_WORDS = CLASS_NAMES.flatMap((c) => WORD_CLASSES[c] as readonly string[]);

function randomWord(rng: DataRng, exclude?: WordClass): string {
  const classes = exclude === undefined ? CLASS_NAMES : CLASS_NAMES.filter((c) => c !== exclude);
  return rng.pick(WORD_CLASSES[rng.pick(classes)]);
}
/** n words, each from a uniformly chosen class. */
function randomWords(rng: DataRng, n: number, exclude?: WordClass): string[] {
  return Array.from({ length: n }, () => randomWord(rng, exclude));
}
/** Force between lo and hi words of `cls` into random positions of `words` (in place). */
function plant(rng: DataRng, words: string[], cls: WordClass, lo: number, hi: number): string[] {
  const want = Math.min(words.length, rng.int(lo, hi));
  const positions = rng.shuffle(words.map((_, i) => i));
  let have = words.filter((w) => classOf(w) === cls).length;
  for (const i of positions) {
    if (have >= want) break;
    if (classOf(words[i] as string) !== cls) {
      words[i] = rng.pick(WORD_CLASSES[cls]);
      have++;
    }
  }
  for (const i of positions) {
    if (have <= hi) break;
    if (classOf(words[i] as string) === cls) {
      words[i] = randomWord(rng, cls);
      have--;
    }
  }
  return words;
}
function ofClass(words: readonly string[], cls: WordClass): string[] {
  return words.filter((w) => classOf(w) === cls);
}
/** An answer different from `right`: the first candidate that differs, else a random word. */
function differ(right: string, rng: DataRng, ...candidates: string[]): string {
  for (const c of candidates) if (c !== right && c !== '') return c;
  let w = rng.pick(ALL_WORDS);
  while (w === right) w = rng.pick(ALL_WORDS);
  return w;
}
const none = (xs: readonly string[]): string => (xs.length === 0 ? 'none' : xs.join(' '));
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const sg = (c: WordClass): string => CLASS_LABELS[c][0];
const pl = (c: WordClass): string => CLASS_LABELS[c][1];
const an = (s: string): string => (/^[aeiou]/.test(s) ? `an ${s}` : `a ${s}`);

type Def<P> = Category<P>;
function cat<P>(c: Def<P>): Category<unknown> {
  return c as unknown as Category<unknown>;
}
function idx<P>(params: readonly P[], pred: (p: P) => boolean): number[] {
  return params.flatMap((p, i) => (pred(p) ? [i] : []));
}

// ---------------------------------------------------------------------------------------------
// selection by position

const kthWord = cat<number>({
  name: 'kth_word',
  summary: 'output the k-th word',
  params: [1, 2, 3, 4, 5, 6],
  heldOutParams: [4],
  slug: (k) => `k${k}`,
  definitions: (k) => [
    `Output the ${ordinal(k)} word of the input.`,
    `You are given a list of words. Write only the word at position ${k}, counting from the left.`,
    `Read the words from left to right and return the ${ordinal(k)} one.`,
  ],
  rule: (k) => `take the ${ordinal(k)} word`,
  sample: (rng, k) => randomWords(rng, rng.int(Math.max(k, 3) + 1, 9)),
  solve: (w, k) => w[k - 1] ?? 'none',
  wrong: (w, k, rng) => differ(w[k - 1] ?? 'none', rng, w[k] ?? '', w[k - 2] ?? '', w[0] ?? ''),
});

const kthFromEnd = cat<number>({
  name: 'kth_from_end',
  summary: 'output the k-th word counting from the end',
  params: [1, 2, 3, 4],
  heldOutParams: [2],
  slug: (k) => `k${k}`,
  definitions: (k) =>
    k === 1
      ? [
          'Output the last word of the input.',
          'You are given a list of words. Write only the final word.',
          'Return the word that comes at the very end of the list.',
        ]
      : [
          `Output the ${ordinal(k)} word from the end of the input.`,
          `You are given a list of words. Counting from the right, write the word at position ${k}.`,
          `Read the words from right to left and return the ${ordinal(k)} one.`,
        ],
  rule: (k) => (k === 1 ? 'take the last word' : `take the ${ordinal(k)} word from the end`),
  sample: (rng, k) => randomWords(rng, rng.int(k + 2, 9)),
  solve: (w, k) => w[w.length - k] ?? 'none',
  wrong: (w, k, rng) => differ(w[w.length - k] ?? 'none', rng, w[k - 1] ?? '', w[w.length - k - 1] ?? ''),
});

// ---------------------------------------------------------------------------------------------
// selection by class

const firstOfClass = cat<WordClass>({
  name: 'first_of_class',
  summary: 'output the first word of a class',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'person'),
  slug: (c) => c,
  definitions: (c) => [
    `Find the first ${sg(c)} in the list of words and output it.`,
    `Which word is the earliest ${sg(c)} in the input? Answer with that word only.`,
    `Scan the words from left to right and write the first one that is ${an(sg(c))}.`,
  ],
  rule: (c) => `take the first ${sg(c)}`,
  sample: (rng, c) => plant(rng, randomWords(rng, rng.int(4, 9)), c, 1, 3),
  solve: (w, c) => ofClass(w, c)[0] ?? 'none',
  wrong: (w, c, rng) => differ(ofClass(w, c)[0] ?? 'none', rng, ofClass(w, c).at(-1) ?? '', w[0] ?? ''),
});

const lastOfClass = cat<WordClass>({
  name: 'last_of_class',
  summary: 'output the last word of a class',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'food'),
  slug: (c) => c,
  definitions: (c) => [
    `Find the last ${sg(c)} in the list of words and output it.`,
    `Which word is the final ${sg(c)} in the input? Answer with that word only.`,
    `Scan the words from right to left and write the first one that is ${an(sg(c))}.`,
  ],
  rule: (c) => `take the last ${sg(c)}`,
  sample: (rng, c) => plant(rng, randomWords(rng, rng.int(4, 9)), c, 1, 3),
  solve: (w, c) => ofClass(w, c).at(-1) ?? 'none',
  wrong: (w, c, rng) => differ(ofClass(w, c).at(-1) ?? 'none', rng, ofClass(w, c)[0] ?? '', w.at(-1) ?? ''),
});

const kthOfClassParams: [number, WordClass][] = [];
for (const k of [2, 3]) for (const c of CLASS_NAMES) kthOfClassParams.push([k, c]);
const kthOfClass = cat<[number, WordClass]>({
  name: 'kth_of_class',
  summary: 'output the k-th word of a class',
  params: kthOfClassParams,
  heldOutParams: idx(kthOfClassParams, ([k, c]) => (k === 2 && c === 'animal') || (k === 3 && c === 'color')),
  slug: ([k, c]) => `k${k}_${c}`,
  definitions: ([k, c]) => [
    `Output the ${ordinal(k)} ${sg(c)} that appears in the input.`,
    `Among the words that are ${pl(c)}, write the one at position ${k} from the left.`,
    `Go through the list, keep only the ${pl(c)}, and return the ${ordinal(k)} of them.`,
  ],
  rule: ([k, c]) => `take the ${ordinal(k)} ${sg(c)}`,
  sample: (rng, [k, c]) => plant(rng, randomWords(rng, rng.int(k + 2, 9)), c, k, k + 2),
  solve: (w, [k, c]) => ofClass(w, c)[k - 1] ?? 'none',
  wrong: (w, [k, c], rng) => differ(ofClass(w, c)[k - 1] ?? 'none', rng, ofClass(w, c)[0] ?? '', w[k - 1] ?? ''),
});

// ---------------------------------------------------------------------------------------------
// filtering

const filterClass = cat<WordClass>({
  name: 'filter_class',
  summary: 'keep only the words of a class',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'verb'),
  slug: (c) => c,
  definitions: (c) => [
    `Write all the ${pl(c)} from the input, in their original order.`,
    `Remove every word that is not ${an(sg(c))} and output what is left.`,
    `List the words that are ${pl(c)}, keeping the order in which they appear.`,
  ],
  rule: (c) => `keep only the ${pl(c)}`,
  sample: (rng, c) => plant(rng, randomWords(rng, rng.int(4, 9)), c, 1, 4),
  solve: (w, c) => none(ofClass(w, c)),
  wrong: (w, c, rng) => differ(none(ofClass(w, c)), rng, none(w.filter((x) => classOf(x) !== c).slice(0, 4)), w[0] ?? ''),
});

const removeClass = cat<WordClass>({
  name: 'remove_class',
  summary: 'delete the words of a class',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'color'),
  slug: (c) => c,
  definitions: (c) => [
    `Delete every ${sg(c)} from the input and output the remaining words in order.`,
    `Copy the list of words but leave out all ${pl(c)}.`,
    `Write the input again without any word that is ${an(sg(c))}.`,
  ],
  rule: (c) => `remove the ${pl(c)}`,
  sample: (rng, c) => plant(rng, randomWords(rng, rng.int(3, 7)), c, 1, 3),
  solve: (w, c) => none(w.filter((x) => classOf(x) !== c)),
  wrong: (w, c, rng) => differ(none(w.filter((x) => classOf(x) !== c)), rng, none(ofClass(w, c)), w.join(' ')),
});

const filterReverse = cat<WordClass>({
  name: 'filter_reverse',
  summary: 'list the words of a class in reverse order',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'number' || c === 'object'),
  slug: (c) => c,
  definitions: (c) => [
    `Write the ${pl(c)} from the input in reverse order.`,
    `Take all the words that are ${pl(c)} and output them from last to first.`,
    `Keep only the ${pl(c)}, then reverse their order.`,
  ],
  rule: (c) => `keep the ${pl(c)} and reverse them`,
  sample: (rng, c) => plant(rng, randomWords(rng, rng.int(4, 9)), c, 2, 4),
  solve: (w, c) => none(ofClass(w, c).reverse()),
  wrong: (w, c, rng) => differ(none(ofClass(w, c).reverse()), rng, none(ofClass(w, c)), none(ofClass(w, c).slice(1))),
});

// ---------------------------------------------------------------------------------------------
// counting and membership

const countClass = cat<WordClass>({
  name: 'count_class',
  summary: 'count the words of a class',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'number'),
  slug: (c) => c,
  definitions: (c) => [
    `How many ${pl(c)} are in the input? Answer with a number word.`,
    `Count the words that are ${pl(c)} and write the count in words, for example "two".`,
    `Output the number of ${pl(c)} in the list, spelled as a word.`,
  ],
  rule: (c) => `count the ${pl(c)}`,
  sample: (rng, c) => plant(rng, randomWords(rng, rng.int(3, 9)), c, 0, 4),
  solve: (w, c) => numberWord(ofClass(w, c).length),
  wrong: (w, c, rng) => differ(numberWord(ofClass(w, c).length), rng, numberWord(w.length), numberWord(ofClass(w, c).length + 1)),
});

const COUNTED_WORDS = ['cat', 'red', 'two', 'tea', 'box', 'big', 'run', 'girl', 'dog', 'blue', 'egg', 'boy'];
const countWord = cat<string>({
  name: 'count_word',
  summary: 'count how often a given word occurs',
  params: COUNTED_WORDS,
  heldOutParams: idx(COUNTED_WORDS, (w) => w === 'dog' || w === 'blue' || w === 'egg' || w === 'boy'),
  slug: (w) => w,
  definitions: (x) => [
    `How many times does the word "${x}" occur in the input? Answer with a number word.`,
    `Count the occurrences of "${x}" in the list and write the count in words.`,
    `Output how often "${x}" appears among the words, spelled as a word such as "three".`,
  ],
  rule: (x) => `count the word "${x}"`,
  sample: (rng, x) => {
    const w = randomWords(rng, rng.int(3, 9));
    const n = rng.int(0, Math.min(4, w.length));
    for (const i of rng.shuffle(w.map((_, j) => j)).slice(0, n)) w[i] = x;
    return w;
  },
  solve: (w, x) => numberWord(w.filter((y) => y === x).length),
  wrong: (w, x, rng) => differ(numberWord(w.filter((y) => y === x).length), rng, numberWord(w.length), numberWord(w.filter((y) => y === x).length + 1)),
});

const MEMBER_WORDS = ['cat', 'milk', 'green', 'three', 'door', 'happy', 'swim', 'mother', 'horse', 'cake', 'black', 'seven', 'chair', 'cold', 'sing', 'sister'];
const containsWord = cat<string>({
  name: 'contains_word',
  summary: 'answer yes/no: does the input contain a word',
  params: MEMBER_WORDS,
  heldOutParams: idx(MEMBER_WORDS, (w) => ['horse', 'cake', 'black', 'seven'].includes(w)),
  slug: (w) => w,
  definitions: (x) => [
    `Does the word "${x}" appear in the input? Answer yes or no.`,
    `Answer "yes" if the list contains "${x}", otherwise answer "no".`,
    `Check whether "${x}" is one of the given words. Reply with yes or no.`,
  ],
  rule: (x) => `check whether "${x}" occurs`,
  sample: (rng, x) => {
    const w = randomWords(rng, rng.int(3, 9)).map((y) => (y === x ? 'salt' : y));
    if (rng.next() < 0.5) w[rng.int(0, w.length - 1)] = x;
    return w;
  },
  solve: (w, x) => yesNo(w.includes(x)),
  wrong: (w, x) => yesNo(!w.includes(x)),
});

const containsClass = cat<WordClass>({
  name: 'contains_class',
  summary: 'answer yes/no: does the input contain a word of a class',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'object'),
  slug: (c) => c,
  definitions: (c) => [
    `Is there ${an(sg(c))} among the words? Answer yes or no.`,
    `Answer "yes" if at least one word in the input is ${an(sg(c))}, otherwise answer "no".`,
    `Check whether the list mentions any ${pl(c)}. Reply with yes or no.`,
  ],
  rule: (c) => `check for ${pl(c)}`,
  sample: (rng, c) => (rng.next() < 0.5 ? randomWords(rng, rng.int(3, 8), c) : plant(rng, randomWords(rng, rng.int(3, 8)), c, 1, 2)),
  solve: (w, c) => yesNo(ofClass(w, c).length > 0),
  wrong: (w, c) => yesNo(ofClass(w, c).length === 0),
});

const compareParams: [WordClass, WordClass][] = [
  ['animal', 'color'],
  ['food', 'object'],
  ['number', 'person'],
  ['verb', 'adjective'],
  ['color', 'food'],
  ['person', 'animal'],
  ['object', 'verb'],
  ['adjective', 'number'],
  ['animal', 'food'],
  ['color', 'person'],
  ['object', 'number'],
  ['verb', 'food'],
];
const compareCounts = cat<[WordClass, WordClass]>({
  name: 'compare_counts',
  summary: 'answer yes/no: are there more words of class A than of class B',
  params: compareParams,
  heldOutParams: [9, 10, 11],
  slug: ([a, b]) => `${a}_${b}`,
  definitions: ([a, b]) => [
    `Are there more ${pl(a)} than ${pl(b)} in the input? Answer yes or no.`,
    `Count the ${pl(a)} and the ${pl(b)}. Answer "yes" if the ${pl(a)} are more numerous, otherwise "no".`,
    `Reply yes when the list holds strictly more ${pl(a)} than ${pl(b)}, and no otherwise.`,
  ],
  rule: ([a, b]) => `compare the number of ${pl(a)} with the number of ${pl(b)}`,
  sample: (rng, [a, b]) => {
    const w = plant(rng, randomWords(rng, rng.int(4, 9)), a, 0, 3);
    const free = w.map((_, i) => i).filter((i) => classOf(w[i] as string) !== a);
    const nb = rng.int(0, Math.min(3, free.length));
    for (const i of rng.shuffle(free).slice(0, nb)) w[i] = rng.pick(WORD_CLASSES[b]);
    return w;
  },
  solve: (w, [a, b]) => yesNo(ofClass(w, a).length > ofClass(w, b).length),
  wrong: (w, [a, b]) => yesNo(!(ofClass(w, a).length > ofClass(w, b).length)),
});

const positionOfClass = cat<WordClass>({
  name: 'position_of_class',
  summary: 'output the position of the first word of a class',
  params: CLASS_NAMES,
  heldOutParams: idx(CLASS_NAMES, (c) => c === 'animal'),
  slug: (c) => c,
  definitions: (c) => [
    `At which position is the first ${sg(c)} in the input? Answer with a number word, counting from one.`,
    `Find the first word that is ${an(sg(c))} and write its position in words, where the first word is "one".`,
    `Output the position of the earliest ${sg(c)} in the list, spelled as a word.`,
  ],
  rule: (c) => `give the position of the first ${sg(c)}`,
  sample: (rng, c) => plant(rng, randomWords(rng, rng.int(3, 9)), c, 1, 2),
  solve: (w, c) => numberWord(w.findIndex((x) => classOf(x) === c) + 1),
  wrong: (w, c, rng) =>
    differ(numberWord(w.findIndex((x) => classOf(x) === c) + 1), rng, numberWord(w.findIndex((x) => classOf(x) === c)), ofClass(w, c)[0] ?? ''),
});

// ---------------------------------------------------------------------------------------------
// neighbours

function neighbourCategory(name: string, offset: 1 | -1, heldOut: boolean): Category<unknown> {
  const side = offset === 1 ? 'after' : 'before';
  const dir = offset === 1 ? 'right' : 'left';
  return cat<WordClass>({
    name,
    summary: `output the word right ${side} the first word of a class`,
    heldOut,
    params: CLASS_NAMES,
    heldOutParams: heldOut ? [] : idx(CLASS_NAMES, (c) => c === 'adjective'),
    slug: (c) => c,
    definitions: (c) => [
      `Output the word that comes right ${side} the first ${sg(c)} in the input.`,
      `Find the first ${sg(c)}; write its neighbour on the ${dir}.`,
      `Which word is immediately ${side} the earliest ${sg(c)}? Answer with that word.`,
    ],
    rule: (c) => `take the word ${side} the first ${sg(c)}`,
    sample: (rng, c) => {
      const w = randomWords(rng, rng.int(4, 9), c);
      const lo = offset === 1 ? 0 : 1;
      const hi = offset === 1 ? w.length - 2 : w.length - 1;
      w[rng.int(lo, hi)] = rng.pick(WORD_CLASSES[c]);
      return w;
    },
    solve: (w, c) => w[w.findIndex((x) => classOf(x) === c) + offset] ?? 'none',
    wrong: (w, c, rng) => {
      const i = w.findIndex((x) => classOf(x) === c);
      return differ(w[i + offset] ?? 'none', rng, w[i - offset] ?? '', w[i] ?? '');
    },
  });
}
const wordAfter = neighbourCategory('word_after', 1, false);
const wordBefore = neighbourCategory('word_before', -1, true);

// ---------------------------------------------------------------------------------------------
// rewriting

const REPLACE_PAIRS: [string, string][] = [
  ['cat', 'dog'],
  ['red', 'blue'],
  ['one', 'two'],
  ['tea', 'milk'],
  ['car', 'boat'],
  ['big', 'small'],
  ['run', 'walk'],
  ['boy', 'girl'],
  ['bread', 'rice'],
  ['green', 'pink'],
  ['house', 'tree'],
  ['six', 'nine'],
  ['fish', 'bird'],
  ['hot', 'cold'],
  ['sing', 'read'],
  ['book', 'cup'],
];
const replaceWord = cat<[string, string]>({
  name: 'replace_word',
  summary: 'replace every occurrence of a word by another',
  params: REPLACE_PAIRS,
  heldOutParams: [12, 13, 14, 15],
  slug: ([a, b]) => `${a}_${b}`,
  definitions: ([a, b]) => [
    `Replace every "${a}" in the input with "${b}" and output the result.`,
    `Copy the words, but write "${b}" wherever the word "${a}" appears.`,
    `Rewrite the list, changing each occurrence of "${a}" into "${b}".`,
  ],
  rule: ([a, b]) => `replace "${a}" with "${b}"`,
  sample: (rng, [a]) => {
    const w = randomWords(rng, rng.int(3, 6));
    const n = rng.int(1, 2);
    for (const i of rng.shuffle(w.map((_, j) => j)).slice(0, n)) w[i] = a;
    return w;
  },
  solve: (w, [a, b]) => w.map((x) => (x === a ? b : x)).join(' '),
  wrong: (w, [a, b], rng) => differ(w.map((x) => (x === a ? b : x)).join(' '), rng, w.join(' '), w.filter((x) => x !== a).join(' ')),
});

const replaceClassParams: [WordClass, string][] = [
  ['animal', 'cat'],
  ['color', 'red'],
  ['food', 'bread'],
  ['object', 'box'],
  ['number', 'one'],
  ['person', 'man'],
  ['verb', 'run'],
  ['adjective', 'good'],
  ['animal', 'fish'],
  ['color', 'white'],
];
const replaceClass = cat<[WordClass, string]>({
  name: 'replace_class',
  summary: 'replace every word of a class by a fixed word',
  params: replaceClassParams,
  heldOutParams: [8, 9],
  slug: ([c, x]) => `${c}_${x}`,
  definitions: ([c, x]) => [
    `Replace every ${sg(c)} in the input with the word "${x}".`,
    `Copy the words, but write "${x}" in place of each ${sg(c)}.`,
    `Rewrite the list so that all ${pl(c)} become "${x}".`,
  ],
  rule: ([c, x]) => `replace each ${sg(c)} with "${x}"`,
  sample: (rng, [c]) => plant(rng, randomWords(rng, rng.int(3, 6)), c, 1, 2),
  solve: (w, [c, x]) => w.map((y) => (classOf(y) === c ? x : y)).join(' '),
  wrong: (w, [c, x], rng) => differ(w.map((y) => (classOf(y) === c ? x : y)).join(' '), rng, w.join(' '), w.map((y) => (classOf(y) === c ? y : x)).join(' ')),
});

const PREFIX_WORDS = ['hello', 'yes', 'the', 'and', 'red', 'big', 'cat', 'one', 'good', 'new', 'my', 'very'];
const prefixCopy = cat<string>({
  name: 'prefix_copy',
  summary: 'copy the input with a word put in front',
  params: PREFIX_WORDS,
  heldOutParams: idx(PREFIX_WORDS, (w) => ['good', 'new', 'my', 'very'].includes(w)),
  slug: (w) => w,
  definitions: (x) => [
    `Copy the input and put the word "${x}" in front of it.`,
    `Write "${x}" followed by all the input words in order.`,
    `Output the list unchanged, but start it with "${x}".`,
  ],
  rule: (x) => `copy the words after "${x}"`,
  sample: (rng) => randomWords(rng, rng.int(2, 5)),
  solve: (w, x) => [x, ...w].join(' '),
  wrong: (w, x, rng) => differ([x, ...w].join(' '), rng, [...w, x].join(' '), w.join(' ')),
});

const SUFFIX_WORDS = ['please', 'now', 'too', 'again', 'here', 'today', 'yes', 'no', 'also', 'first', 'last', 'only'];
const suffixCopy = cat<string>({
  name: 'suffix_copy',
  summary: 'copy the input with a word added at the end',
  params: SUFFIX_WORDS,
  heldOutParams: idx(SUFFIX_WORDS, (w) => ['also', 'first', 'last', 'only'].includes(w)),
  slug: (w) => w,
  definitions: (x) => [
    `Copy the input and add the word "${x}" at the end.`,
    `Write all the input words in order, then "${x}".`,
    `Output the list unchanged, but finish it with "${x}".`,
  ],
  rule: (x) => `copy the words and end with "${x}"`,
  sample: (rng) => randomWords(rng, rng.int(2, 5)),
  solve: (w, x) => [...w, x].join(' '),
  wrong: (w, x, rng) => differ([...w, x].join(' '), rng, [x, ...w].join(' '), w.join(' ')),
});

// ---------------------------------------------------------------------------------------------
// order

type Order = 'reverse' | 'alphabetical' | 'reverse_alphabetical' | 'dedupe' | 'swap_ends';
function orderCategory(name: string, params: Order[], heldOut: boolean, heldOutParams: number[]): Category<unknown> {
  const text: Record<Order, { defs: string[]; rule: string }> = {
    reverse: {
      defs: ['Write the input words in reverse order.', 'Output the list backwards, from the last word to the first.', 'Reverse the order of the words.'],
      rule: 'reverse the words',
    },
    alphabetical: {
      defs: ['Sort the input words in alphabetical order.', 'Output the words arranged from A to Z.', 'Put the list of words in dictionary order.'],
      rule: 'sort the words alphabetically',
    },
    reverse_alphabetical: {
      defs: [
        'Sort the input words in reverse alphabetical order.',
        'Output the words arranged from Z to A.',
        'Put the list of words in backwards dictionary order.',
      ],
      rule: 'sort the words from Z to A',
    },
    dedupe: {
      defs: [
        'Remove repeated words: keep only the first occurrence of each word, in order.',
        'Copy the list but skip any word that has already appeared.',
        'Output each distinct word once, in the order it first appears.',
      ],
      rule: 'drop repeated words',
    },
    swap_ends: {
      defs: [
        'Swap the first and the last word of the input and output the list.',
        'Exchange the positions of the first word and the final word; keep the rest as it is.',
        'Write the words with the first and last ones trading places.',
      ],
      rule: 'swap the first and last words',
    },
  };
  const solve = (w: readonly string[], p: Order): string => {
    switch (p) {
      case 'reverse':
        return [...w].reverse().join(' ');
      case 'alphabetical':
        return [...w].sort().join(' ');
      case 'reverse_alphabetical':
        return [...w].sort().reverse().join(' ');
      case 'dedupe':
        return [...new Set(w)].join(' ');
      case 'swap_ends': {
        const out = [...w];
        if (out.length > 1) [out[0], out[out.length - 1]] = [out[out.length - 1] as string, out[0] as string];
        return out.join(' ');
      }
    }
  };
  return cat<Order>({
    name,
    summary: params.map((p) => text[p].rule).join(' / '),
    heldOut,
    params,
    heldOutParams,
    slug: (p) => p,
    definitions: (p) => text[p].defs,
    rule: (p) => text[p].rule,
    sample: (rng, p) => {
      const w = randomWords(rng, rng.int(2, 6));
      if (p === 'dedupe' && w.length > 2) w[rng.int(1, w.length - 1)] = w[rng.int(0, w.length - 2)] as string;
      return w;
    },
    solve,
    wrong: (w, p, rng) => differ(solve(w, p), rng, w.join(' '), [...w].reverse().join(' '), w.slice(1).join(' ')),
  });
}
const reorder = orderCategory('reorder', ['reverse', 'alphabetical', 'reverse_alphabetical'], false, [2]);
const dedupe = orderCategory('dedupe', ['dedupe'], false, []);
const swapEnds = orderCategory('swap_ends', ['swap_ends'], true, []);

const spanParams: ['first' | 'last', number][] = [];
for (const side of ['first', 'last'] as const) for (const n of [2, 3, 4, 5]) spanParams.push([side, n]);
const span = cat<['first' | 'last', number]>({
  name: 'span',
  summary: 'output the first or last n words',
  params: spanParams,
  heldOutParams: idx(spanParams, ([s, n]) => s === 'last' && n === 4),
  slug: ([s, n]) => `${s}${n}`,
  definitions: ([s, n]) => [
    `Output the ${s} ${numberWord(n)} words of the input.`,
    `Copy only the ${numberWord(n)} words at the ${s === 'first' ? 'start' : 'end'} of the list, in order.`,
    `Keep the ${s} ${numberWord(n)} words and drop the rest.`,
  ],
  rule: ([s, n]) => `keep the ${s} ${numberWord(n)} words`,
  sample: (rng, [, n]) => randomWords(rng, rng.int(n + 1, 9)),
  solve: (w, [s, n]) => (s === 'first' ? w.slice(0, n) : w.slice(-n)).join(' '),
  wrong: (w, [s, n], rng) =>
    differ((s === 'first' ? w.slice(0, n) : w.slice(-n)).join(' '), rng, (s === 'first' ? w.slice(-n) : w.slice(0, n)).join(' '), w.slice(0, n + 1).join(' ')),
});

const alternate = cat<'odd' | 'even'>({
  name: 'alternate',
  summary: 'output every other word',
  params: ['odd', 'even'],
  heldOutParams: [],
  slug: (p) => p,
  definitions: (p) =>
    p === 'odd'
      ? [
          'Output every other word, starting with the first word.',
          'Keep the words at positions one, three, five and so on.',
          'Write the first word, skip one, write the next, and so on.',
        ]
      : [
          'Output every other word, starting with the second word.',
          'Keep the words at positions two, four, six and so on.',
          'Skip the first word, write the second, skip one, and so on.',
        ],
  rule: (p) => `keep the words at ${p} positions`,
  sample: (rng) => randomWords(rng, rng.int(3, 9)),
  solve: (w, p) => w.filter((_, i) => (i % 2 === 0) === (p === 'odd')).join(' '),
  wrong: (w, p, rng) =>
    differ(w.filter((_, i) => (i % 2 === 0) === (p === 'odd')).join(' '), rng, w.filter((_, i) => (i % 2 === 0) !== (p === 'odd')).join(' ')),
});

const repeatParams: [number, number][] = [];
for (const k of [1, 2, 3]) for (const n of [2, 3]) repeatParams.push([k, n]);
const repeatWord = cat<[number, number]>({
  name: 'repeat_word',
  summary: 'repeat the k-th word n times',
  params: repeatParams,
  heldOutParams: idx(repeatParams, ([k, n]) => k === 3 && n === 2),
  slug: ([k, n]) => `k${k}_n${n}`,
  definitions: ([k, n]) => [
    `Write the ${ordinal(k)} word of the input ${numberWord(n)} times.`,
    `Repeat the word at position ${k} exactly ${numberWord(n)} times, separated by spaces.`,
    `Take the ${ordinal(k)} word and output it ${numberWord(n)} times in a row.`,
  ],
  rule: ([k, n]) => `repeat the ${ordinal(k)} word ${numberWord(n)} times`,
  sample: (rng, [k]) => randomWords(rng, rng.int(k + 1, 8)),
  solve: (w, [k, n]) => Array.from({ length: n }, () => w[k - 1] ?? 'none').join(' '),
  wrong: (w, [k, n], rng) =>
    differ(Array.from({ length: n }, () => w[k - 1] ?? 'none').join(' '), rng, w[k - 1] ?? '', Array.from({ length: n }, () => w[k] ?? 'none').join(' ')),
});

// ---------------------------------------------------------------------------------------------
// mapping through relations

function domainWords(r: Relation): string[] {
  return [...r.map.keys()];
}
const MAP_RELATIONS = ['opposite', 'plural', 'category', 'digit', 'next', 'gender', 'singular', 'previous'] as const;
const mapRelation = cat<(typeof MAP_RELATIONS)[number]>({
  name: 'map_relation',
  summary: 'map every word through a named relation (opposite, plural, category, …)',
  params: MAP_RELATIONS,
  heldOutParams: [6, 7],
  slug: (r) => r,
  definitions: (r) => {
    const rel = RELATIONS[r] as Relation;
    return [
      `Replace each word of the input with ${rel.phrase}.`,
      `For every word in the list, write ${rel.phrase} instead, keeping the order.`,
      `Map each given word to ${rel.phrase} and output the results separated by spaces.`,
    ];
  },
  rule: (r) => `map each word to ${(RELATIONS[r] as Relation).phrase}`,
  sample: (rng, r) => Array.from({ length: rng.int(1, 4) }, () => rng.pick(domainWords(RELATIONS[r] as Relation))),
  solve: (w, r) => w.map((x) => (RELATIONS[r] as Relation).map.get(x) ?? x).join(' '),
  wrong: (w, r, rng) => differ(w.map((x) => (RELATIONS[r] as Relation).map.get(x) ?? x).join(' '), rng, w.join(' ')),
});

const mapKthParams: [(typeof MAP_RELATIONS)[number], number][] = [];
for (const r of ['opposite', 'plural', 'category', 'digit', 'next', 'gender'] as const) for (const k of [1, 2, 3]) mapKthParams.push([r, k]);
const mapKth = cat<[(typeof MAP_RELATIONS)[number], number]>({
  name: 'map_kth',
  summary: 'map the k-th word through a named relation',
  params: mapKthParams,
  heldOutParams: idx(mapKthParams, ([r, k]) => (r === 'opposite' && k === 3) || (r === 'category' && k === 2) || (r === 'gender' && k === 1)),
  slug: ([r, k]) => `${r}_k${k}`,
  definitions: ([r, k]) => {
    const rel = RELATIONS[r] as Relation;
    return [
      `Look at the ${ordinal(k)} word of the input and output ${rel.phrase}.`,
      `Take the word at position ${k} and write ${rel.phrase}.`,
      `Find the ${ordinal(k)} word; answer with ${rel.phrase}.`,
    ];
  },
  rule: ([r, k]) => `map the ${ordinal(k)} word to ${(RELATIONS[r] as Relation).phrase}`,
  sample: (rng, [r, k]) => {
    const w = randomWords(rng, rng.int(k + 1, 7));
    w[k - 1] = rng.pick(domainWords(RELATIONS[r] as Relation));
    return w;
  },
  solve: (w, [r, k]) => (RELATIONS[r] as Relation).map.get(w[k - 1] ?? '') ?? 'none',
  wrong: (w, [r, k], rng) => differ((RELATIONS[r] as Relation).map.get(w[k - 1] ?? '') ?? 'none', rng, w[k - 1] ?? ''),
});

// ---------------------------------------------------------------------------------------------
// numbers

const numberExtreme = cat<'largest' | 'smallest'>({
  name: 'number_extreme',
  summary: 'output the largest or smallest number word',
  params: ['largest', 'smallest'],
  heldOutParams: [1],
  slug: (p) => p,
  definitions: (p) => [
    `Among the number words in the input, output the ${p} one.`,
    `Find the number word with the ${p === 'largest' ? 'highest' : 'lowest'} value and write it.`,
    `Which number mentioned in the list is the ${p}? Answer with that word.`,
  ],
  rule: (p) => `take the ${p} number`,
  sample: (rng) => plant(rng, randomWords(rng, rng.int(3, 8)), 'number', 2, 4),
  solve: (w, p) => {
    const nums = ofClass(w, 'number').sort((a, b) => numberValue(a) - numberValue(b));
    return (p === 'largest' ? nums.at(-1) : nums[0]) ?? 'none';
  },
  wrong: (w, p, rng) => {
    const nums = ofClass(w, 'number').sort((a, b) => numberValue(a) - numberValue(b));
    return differ((p === 'largest' ? nums.at(-1) : nums[0]) ?? 'none', rng, (p === 'largest' ? nums[0] : nums.at(-1)) ?? '', ofClass(w, 'number')[0] ?? '');
  },
});

const arithmetic = cat<'sum' | 'difference'>({
  name: 'arithmetic',
  summary: 'add or subtract the number words',
  params: ['sum', 'difference'],
  heldOutParams: [],
  slug: (p) => p,
  definitions: (p) =>
    p === 'sum'
      ? [
          'Add the number words in the input and write the sum as a word.',
          'What do the given numbers add up to? Answer with a number word.',
          'Output the total of all the numbers in the list, spelled out.',
        ]
      : [
          'Subtract the smaller number word from the larger one and write the result as a word.',
          'What is the difference between the two numbers? Answer with a number word.',
          'Output how far apart the two given numbers are, spelled out.',
        ],
  rule: (p) => (p === 'sum' ? 'add the numbers' : 'subtract the smaller number from the larger'),
  sample: (rng, p) => {
    if (p === 'difference') return [numberWord(rng.int(1, 9)), numberWord(rng.int(1, 9))];
    // Two or three addends with a total of at most nine (the largest one-piece number word).
    const n = rng.int(2, 3);
    const xs: number[] = [];
    let left = 9;
    for (let i = 0; i < n; i++) {
      const x = rng.int(1, left - (n - 1 - i));
      xs.push(x);
      left -= x;
    }
    return xs.map(numberWord);
  },
  solve: (w, p) => {
    const xs = w.map(numberValue);
    return numberWord(p === 'sum' ? xs.reduce((a, b) => a + b, 0) : Math.abs((xs[0] ?? 0) - (xs[1] ?? 0)));
  },
  wrong: (w, p, rng) => {
    const xs = w.map(numberValue);
    const right = p === 'sum' ? xs.reduce((a, b) => a + b, 0) : Math.abs((xs[0] ?? 0) - (xs[1] ?? 0));
    return differ(numberWord(right), rng, numberWord(Math.max(...xs)), numberWord(right - 1));
  },
});

const lengthExtreme = cat<'longest' | 'shortest'>({
  name: 'length_extreme',
  summary: 'output the longest or shortest word',
  params: ['longest', 'shortest'],
  heldOutParams: [],
  slug: (p) => p,
  definitions: (p) => [
    `Output the ${p} word of the input; if several are equally ${p === 'longest' ? 'long' : 'short'}, take the first of them.`,
    `Which word has the ${p === 'longest' ? 'most' : 'fewest'} letters? Answer with the earliest such word.`,
    `Find the word with the ${p === 'longest' ? 'greatest' : 'smallest'} number of letters and write it (the first one on ties).`,
  ],
  rule: (p) => `take the ${p} word`,
  sample: (rng) => randomWords(rng, rng.int(3, 7)),
  solve: (w, p) => w.reduce((best, x) => ((p === 'longest' ? x.length > best.length : x.length < best.length) ? x : best)),
  wrong: (w, p, rng) =>
    differ(
      w.reduce((best, x) => ((p === 'longest' ? x.length > best.length : x.length < best.length) ? x : best)),
      rng,
      w.reduce((best, x) => ((p === 'longest' ? x.length < best.length : x.length > best.length) ? x : best)),
      w[0] ?? '',
    ),
});

const kthIsClassParams: [number, WordClass][] = [];
for (const k of [1, 2, 3]) for (const c of ['animal', 'color', 'food'] as const) kthIsClassParams.push([k, c]);
const kthIsClass = cat<[number, WordClass]>({
  name: 'kth_is_class',
  summary: 'answer yes/no: is the k-th word of a class',
  heldOut: true,
  params: kthIsClassParams,
  heldOutParams: [],
  slug: ([k, c]) => `k${k}_${c}`,
  definitions: ([k, c]) => [
    `Is the ${ordinal(k)} word of the input ${an(sg(c))}? Answer yes or no.`,
    `Answer "yes" if the word at position ${k} is ${an(sg(c))}, otherwise "no".`,
    `Look at the ${ordinal(k)} word and reply yes when it is ${an(sg(c))} and no when it is not.`,
  ],
  rule: ([k, c]) => `check whether the ${ordinal(k)} word is ${an(sg(c))}`,
  sample: (rng, [k, c]) => {
    const w = randomWords(rng, rng.int(k + 1, 8));
    w[k - 1] = rng.next() < 0.5 ? rng.pick(WORD_CLASSES[c]) : randomWord(rng, c);
    return w;
  },
  solve: (w, [k, c]) => yesNo(classOf(w[k - 1] ?? '') === c),
  wrong: (w, [k, c]) => yesNo(classOf(w[k - 1] ?? '') !== c),
});

/** Every category, in a fixed order (task ids and seeds do not depend on this order). */
export const CATEGORIES: readonly Category<unknown>[] = [
  kthWord,
  kthFromEnd,
  firstOfClass,
  lastOfClass,
  kthOfClass,
  filterClass,
  removeClass,
  filterReverse,
  countClass,
  countWord,
  containsWord,
  containsClass,
  compareCounts,
  positionOfClass,
  wordAfter,
  wordBefore,
  replaceWord,
  replaceClass,
  prefixCopy,
  suffixCopy,
  reorder,
  dedupe,
  swapEnds,
  span,
  alternate,
  repeatWord,
  mapRelation,
  mapKth,
  numberExtreme,
  arithmetic,
  lengthExtreme,
  kthIsClass,
];
