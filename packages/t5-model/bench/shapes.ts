// The shapes `bench/t5.ts` measures, shared by the driver (which loads no tensor library) and its phases.
export const SHAPES = {
  // d_model 512, 8+8 layers, 6 heads, d_kv 64, d_ff 1024, gated-gelu, vocab 32,128; batch 8, 256 / 64 tokens
  't5-small-lm-adapt': { dModel: 512, dKv: 64, numHeads: 6, dFf: 1024, layers: 8, vocab: 32128, batch: 8, src: 256, tgt: 64 },
  // d_model 768, 12+12 layers, 12 heads, d_kv 64, d_ff 2048; the t5-base-lm-adapt preset's SNI batch: 8, 1,024 / 128 tokens
  't5-base-lm-adapt': { dModel: 768, dKv: 64, numHeads: 12, dFf: 2048, layers: 12, vocab: 32128, batch: 8, src: 1024, tgt: 128 },
  small: { dModel: 128, dKv: 32, numHeads: 4, dFf: 256, layers: 2, vocab: 32128, batch: 4, src: 64, tgt: 16 },
} as const;
export type ShapeName = keyof typeof SHAPES;
export type Shape = (typeof SHAPES)[ShapeName];
/** `train-recompute`: the training step with per-block activation recomputation on both sides. */
export const ROWS = ['forward', 'train', 'train-recompute', 'gen16', 'gen64'] as const;
export type Row = (typeof ROWS)[number];
/** LoRA rank on q and v, both sides. */
export const RANK = 8;

/** `--name value` or `--name` (true) from argv. */
export function flag(name: string, argv: readonly string[] = process.argv): string | true | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const next = argv[i + 1];
  return next === undefined || next.startsWith('--') ? true : next;
}
export const str = (name: string, def: string): string => {
  const v = flag(name);
  return typeof v === 'string' ? v : def;
};

/** One variant of a row as one phase measured it. */
export interface PhaseVariant {
  label: string;
  tokens: number;
  /** Wall seconds of each measured run (after the warm-up). */
  seconds: number[];
}
/** What one phase process reports on its last stdout line. */
export interface PhaseResult {
  variants: PhaseVariant[];
  /** Peak resident set of the phase process (getrusage maxrss), MB. */
  peakRssMB: number;
  /** Ours, train row: the largest number of tensor bytes live at once during one step (tf.profile), MB. */
  tensorPeakMB?: number;
  /** Ours, train row: micro-batch of the step. */
  micro?: number;
  profile?: unknown;
}
