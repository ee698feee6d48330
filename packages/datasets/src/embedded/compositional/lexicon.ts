// The compositional suite's vocabulary: 8 classes of 6 words, each class made of 3 opposite pairs,
// so every word has exactly one class and exactly one opposite. That makes every word mapping
// ("itself", "the name of its category", "its opposite") total: any position of any input can be
// mapped, and a held-out combination never meets a word outside a mapping's domain.
// Every word is one SentencePiece piece of the standard T5 vocabulary (test/vocab.test.ts).

export const CLASS_WORDS = {
  // complementary colours on the colour wheel
  color: ['red', 'green', 'blue', 'orange', 'yellow', 'purple'],
  person: ['man', 'woman', 'boy', 'girl', 'prince', 'princess'],
  relative: ['mother', 'father', 'sister', 'brother', 'son', 'daughter'],
  direction: ['north', 'south', 'east', 'west', 'up', 'down'],
  location: ['top', 'bottom', 'front', 'back', 'inside', 'outside'],
  time: ['day', 'night', 'summer', 'winter', 'morning', 'evening'],
  adjective: ['big', 'small', 'hot', 'cold', 'fast', 'slow'],
  verb: ['open', 'close', 'push', 'pull', 'buy', 'sell'],
} as const satisfies Record<string, readonly string[]>;

export type ClassName = keyof typeof CLASS_WORDS;
export const CLASSES = Object.keys(CLASS_WORDS) as ClassName[];

/** How a class is named inside instructions (singular, plural); its category name is the key itself. */
export const CLASS_PHRASES: Record<ClassName, { readonly one: string; readonly many: string }> = {
  color: { one: 'color', many: 'colors' },
  person: { one: 'person', many: 'people' },
  relative: { one: 'relative', many: 'relatives' },
  direction: { one: 'direction', many: 'directions' },
  location: { one: 'location', many: 'locations' },
  time: { one: 'time word', many: 'time words' },
  adjective: { one: 'adjective', many: 'adjectives' },
  verb: { one: 'verb', many: 'verbs' },
};

/** Words listed pairwise: [0]↔[1], [2]↔[3], [4]↔[5] in each class. */
const OPPOSITE = new Map<string, string>();
const CLASS_OF = new Map<string, ClassName>();
for (const c of CLASSES) {
  const ws = CLASS_WORDS[c];
  for (let i = 0; i < ws.length; i += 2) {
    const a = ws[i] as string;
    const b = ws[i + 1] as string;
    OPPOSITE.set(a, b);
    OPPOSITE.set(b, a);
  }
  for (const w of ws) CLASS_OF.set(w, c);
}

export const LEXICON: readonly string[] = CLASSES.flatMap((c) => CLASS_WORDS[c]);

export function classOfWord(word: string): ClassName | undefined {
  return CLASS_OF.get(word);
}
export function oppositeOf(word: string): string | undefined {
  return OPPOSITE.get(word);
}

/** Counts and positions are written as number words ("zero" … "six"). */
export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;
export function numberWord(n: number): string {
  const w = NUMBER_WORDS[n];
  if (w === undefined) throw new RangeError(`numberWord: ${n} is outside 0..9`);
  return w;
}

/** "an adjective", "a color". */
export function withArticle(phrase: string): string {
  return /^[aeiou]/.test(phrase) ? `an ${phrase}` : `a ${phrase}`;
}
