// What a reader of a run dir needs from its config.json (the trainer's resolved config): the prompt
// settings the run trained with. The limits are the trainer's: its zod schema takes them from
// PROMPT_LIMITS, so a config.json the trainer rejects is rejected here with the same key named.
import { RUN_FILES } from './files.js';

/** Bounds of the `prompt` keys a run's readers use; the trainer's config schema is built from them. */
export const PROMPT_LIMITS = {
  /** Positive demonstrations in a task's instruction. */
  numPos: { min: 0, max: 8 },
  /** Token budget of an input or a concatenated prompt. */
  maxSourceLength: { min: 8 },
} as const;

/** A config.json whose prompt settings cannot be used; the message names the file and the key. */
export class RunConfigError extends Error {
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super(`${file}: ${fault}`);
    this.name = 'RunConfigError';
  }
}

export interface RunPromptSettings {
  /** prompt.numPos: positive demonstrations in a task's instruction. */
  readonly numPositive: number;
  /** prompt.maxSourceLength: token budget of inputs and concatenated prompts. */
  readonly maxSourceTokens: number | undefined;
  /** Whether the values came from the run's config.json. */
  readonly fromConfig: boolean;
}

/** The settings of a dir without a run config (an HF model dir, a hand-made run): no demonstrations, no budget of its own. */
export const NO_RUN_PROMPT: RunPromptSettings = { numPositive: 0, maxSourceTokens: undefined, fromConfig: false };

/**
 * The prompt settings of a parsed config.json. A config without a `prompt` object (an HF model config, a
 * hand-made run) gives NO_RUN_PROMPT; a `prompt` object with a bad value is a RunConfigError naming the
 * key, never silently replaced.
 */
export function parseRunPrompt(json: unknown, file: string = RUN_FILES.config): RunPromptSettings {
  const prompt = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as { prompt?: unknown }).prompt : undefined;
  if (prompt === undefined) return NO_RUN_PROMPT;
  if (prompt === null || typeof prompt !== 'object' || Array.isArray(prompt))
    throw new RunConfigError(file, `prompt: expected an object, got ${JSON.stringify(prompt)}`);
  const p = prompt as Record<string, unknown>;
  const int = (key: keyof typeof PROMPT_LIMITS): number | undefined => {
    const v = p[key];
    if (v === undefined) return undefined;
    const limits: { readonly min: number; readonly max?: number } = PROMPT_LIMITS[key];
    const { min, max } = limits;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || (max !== undefined && v > max)) {
      const expected = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
      throw new RunConfigError(file, `prompt.${key}: expected ${expected}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  return { numPositive: int('numPos') ?? 0, maxSourceTokens: int('maxSourceLength'), fromConfig: true };
}
