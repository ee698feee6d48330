// The embedded suite's vocabulary. Every word here is ONE SentencePiece piece ("▁word") in the
// standard T5 tokenizer (checked by scripts/check-vocab.mjs against ../shared/data/t5-tokenizer), so
// a tiny T5 with a pruned vocabulary sees each word as one token.

export const WORD_CLASSES = {
  color: ['red', 'blue', 'green', 'yellow', 'black', 'white', 'brown', 'pink', 'gray', 'orange', 'purple', 'gold'],
  animal: ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep', 'bear', 'mouse', 'duck', 'goat', 'rabbit', 'snake'],
  number: ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
  food: ['apple', 'bread', 'cake', 'rice', 'egg', 'milk', 'cheese', 'meat', 'soup', 'tea', 'coffee', 'juice', 'sugar', 'salt', 'butter'],
  object: ['house', 'car', 'book', 'tree', 'chair', 'table', 'door', 'window', 'box', 'ball', 'bag', 'cup', 'shoe', 'key', 'bed', 'boat', 'train', 'road'],
  adjective: [
    'big',
    'small',
    'hot',
    'cold',
    'fast',
    'slow',
    'good',
    'bad',
    'old',
    'new',
    'happy',
    'sad',
    'long',
    'short',
    'high',
    'low',
    'open',
    'closed',
    'light',
    'dark',
    'hard',
    'soft',
    'rich',
    'poor',
    'early',
    'late',
    'full',
    'empty',
    'clean',
    'dirty',
    'strong',
    'weak',
  ],
  verb: ['run', 'walk', 'jump', 'swim', 'read', 'write', 'sing', 'dance', 'drink', 'sleep', 'play', 'cook'],
  person: ['mother', 'father', 'sister', 'brother', 'son', 'daughter', 'man', 'woman', 'boy', 'girl', 'queen'],
} as const satisfies Record<string, readonly string[]>;

export type WordClass = keyof typeof WORD_CLASSES;
export const CLASS_NAMES = Object.keys(WORD_CLASSES) as WordClass[];

/** How a class is named in instructions: [singular, plural]. */
export const CLASS_LABELS: Record<WordClass, readonly [string, string]> = {
  color: ['color', 'colors'],
  animal: ['animal', 'animals'],
  number: ['number word', 'number words'],
  food: ['food', 'foods'],
  object: ['object', 'objects'],
  adjective: ['adjective', 'adjectives'],
  verb: ['verb', 'verbs'],
  person: ['person', 'people'],
};

const CLASS_OF = new Map<string, WordClass>();
for (const c of CLASS_NAMES) for (const w of WORD_CLASSES[c]) CLASS_OF.set(w, c);

export function classOf(word: string): WordClass | undefined {
  return CLASS_OF.get(word);
}

/** Number words to values and back; counts are written as words ("zero" … "nine"). */
export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;
export function numberWord(n: number): string {
  return NUMBER_WORDS[n] ?? String(n);
}
export function numberValue(word: string): number {
  return NUMBER_WORDS.indexOf(word as (typeof NUMBER_WORDS)[number]);
}

function pairs(list: readonly (readonly [string, string])[], symmetric: boolean): ReadonlyMap<string, string> {
  const m = new Map<string, string>();
  for (const [a, b] of list) {
    m.set(a, b);
    if (symmetric) m.set(b, a);
  }
  return m;
}

const OPPOSITES = [
  ['big', 'small'],
  ['hot', 'cold'],
  ['fast', 'slow'],
  ['good', 'bad'],
  ['old', 'new'],
  ['happy', 'sad'],
  ['long', 'short'],
  ['high', 'low'],
  ['open', 'closed'],
  ['light', 'dark'],
  ['hard', 'soft'],
  ['rich', 'poor'],
  ['early', 'late'],
  ['full', 'empty'],
  ['clean', 'dirty'],
  ['strong', 'weak'],
] as const;

const PLURALS = [
  ['cat', 'cats'],
  ['dog', 'dogs'],
  ['bird', 'birds'],
  ['horse', 'horses'],
  ['house', 'houses'],
  ['car', 'cars'],
  ['book', 'books'],
  ['tree', 'trees'],
  ['chair', 'chairs'],
  ['table', 'tables'],
  ['door', 'doors'],
  ['window', 'windows'],
  ['box', 'boxes'],
  ['ball', 'balls'],
  ['bag', 'bags'],
  ['cup', 'cups'],
  ['shoe', 'shoes'],
  ['key', 'keys'],
  ['bed', 'beds'],
  ['boat', 'boats'],
  ['train', 'trains'],
  ['road', 'roads'],
  ['apple', 'apples'],
  ['cake', 'cakes'],
  ['egg', 'eggs'],
] as const;

const GENDER = [
  ['mother', 'father'],
  ['sister', 'brother'],
  ['son', 'daughter'],
  ['man', 'woman'],
  ['boy', 'girl'],
] as const;

const successor: [string, string][] = [];
for (let i = 1; i < 9; i++) successor.push([numberWord(i), numberWord(i + 1)]);

const DIGITS: [string, string][] = [];
for (let i = 1; i <= 9; i++) DIGITS.push([numberWord(i), String(i)]);

/** Named word relations used by the mapping tasks. */
export interface Relation {
  readonly name: string;
  /** Phrase used in instructions: "the opposite of each word". */
  readonly phrase: string;
  readonly map: ReadonlyMap<string, string>;
}

export const RELATIONS: Record<string, Relation> = {
  opposite: { name: 'opposite', phrase: 'its opposite', map: pairs(OPPOSITES, true) },
  plural: { name: 'plural', phrase: 'its plural form', map: pairs(PLURALS, false) },
  singular: {
    name: 'singular',
    phrase: 'its singular form',
    map: new Map(PLURALS.map(([s, p]) => [p, s] as [string, string])),
  },
  category: {
    name: 'category',
    phrase: 'the name of its category',
    map: new Map([...CLASS_OF].map(([w, c]) => [w, c] as [string, string])),
  },
  digit: { name: 'digit', phrase: 'the digit it names', map: new Map(DIGITS) },
  next: { name: 'next', phrase: 'the number word that comes after it', map: new Map(successor) },
  previous: {
    name: 'previous',
    phrase: 'the number word that comes before it',
    map: new Map(successor.map(([a, b]) => [b, a] as [string, string])),
  },
  gender: { name: 'gender', phrase: 'the same relative of the other gender', map: pairs(GENDER, true) },
};

/** Every word that can appear in the suite's inputs. */
export function inputVocabulary(): string[] {
  const set = new Set<string>();
  for (const c of CLASS_NAMES) for (const w of WORD_CLASSES[c]) set.add(w);
  for (const r of Object.values(RELATIONS)) for (const w of r.map.keys()) set.add(w);
  return [...set].sort();
}
