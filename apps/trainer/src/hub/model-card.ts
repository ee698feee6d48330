// The model card `tagi push` writes as the repo's README.md: YAML front matter the Hub reads (base_model,
// library_name, license, tags, pipeline_tag) and a body that says what the files are, where they came from
// (the instruction, the hypernetwork, the base model) and how to use them, with the evaluation table of the run
// that made them when there is one. YAML is written by hand from JSON strings (a YAML 1.2 double-quoted scalar
// is a JSON string), so any instruction text round-trips; the tests parse it with a YAML parser as the Hub does.

/** What was pushed. */
export type PushKind = 'adapter' | 'task-adapter' | 'hypernet';

export interface ModelCardInput {
  readonly kind: PushKind;
  /** `org/name` of the Hub repo. */
  readonly repo: string;
  readonly license: string;
  /** A Hub model id for `base_model`, when the base is on the Hub. */
  readonly baseModelId?: string;
  /** The base model's files are in the repo under this folder (a base trained here, not on the Hub). */
  readonly baseModelFolder?: string;
  /** Task adapters: the instruction they were generated from. */
  readonly instruction?: string;
  /** Task adapters: the hypernetwork (Hub id or local path as recorded) and the SHA-256 of its weights. */
  readonly hypernet?: { readonly name: string | null; readonly weightsSha256?: string };
  /** LoRA facts: rank, alpha, target modules, fusion (a hypernet's generated adapters, or the adapter itself). */
  readonly lora?: { readonly rank: number; readonly alpha: number; readonly targets: readonly string[] | string; readonly fusion?: string };
  /** Hypernetworks: its config, as in hypernet_config.json. */
  readonly hypernetConfig?: Readonly<Record<string, unknown>>;
  /** The results table of the run that made it (markdown), and where it came from. */
  readonly evaluation?: { readonly markdown: string; readonly source: string };
  /** The files pushed (paths in the repo, README.md excluded). */
  readonly files: readonly string[];
}

const TITLES: Record<PushKind, string> = {
  adapter: 'a LoRA adapter (peft) for T5, trained with TAGI-TS',
  'task-adapter': 'a LoRA adapter (peft) for T5 generated from an instruction by a TAGI hypernetwork',
  hypernet: 'a TAGI hypernetwork: it reads a task instruction and writes LoRA weights for a frozen T5',
};

const q = (s: string) => JSON.stringify(s);

/** The YAML front matter (between `---` lines) of the card. */
export function cardMetadata(c: ModelCardInput): string {
  const adapter = c.kind !== 'hypernet';
  const tags = [
    'tagi',
    'text2text-generation',
    't5',
    'lora',
    ...(adapter ? ['peft'] : ['hypernetwork']),
    ...(c.kind === 'task-adapter' ? ['generated-adapter'] : []),
  ];
  const lines = [
    '---',
    ...(c.baseModelId !== undefined ? [`base_model: ${q(c.baseModelId)}`, ...(adapter ? ['base_model_relation: adapter'] : [])] : []),
    ...(adapter ? ['library_name: peft'] : []),
    `license: ${q(c.license)}`,
    'pipeline_tag: text2text-generation',
    'tags:',
    ...tags.map((t) => `- ${q(t)}`),
    ...(c.instruction !== undefined ? [`instruction: ${q(c.instruction)}`] : []),
    ...(c.hypernet?.name ? [`hypernetwork: ${q(c.hypernet.name)}`] : []),
    '---',
  ];
  return `${lines.join('\n')}\n`;
}

/** The whole README.md. */
export function modelCard(c: ModelCardInput): string {
  const base =
    c.baseModelId !== undefined
      ? `[${c.baseModelId}](https://huggingface.co/${c.baseModelId})`
      : c.baseModelFolder !== undefined
        ? `the small T5 in \`${c.baseModelFolder}/\` of this repo (trained by \`tagi base\`; not on the Hub on its own)`
        : 'not recorded (give it with `--model` when you use these files)';
  const facts = [
    `- **Base model**: ${base}`,
    ...(c.instruction !== undefined ? [`- **Instruction**: ${c.instruction.replace(/\s+/g, ' ')}`] : []),
    ...(c.hypernet
      ? [`- **Hypernetwork**: ${c.hypernet.name ?? 'not recorded'}${c.hypernet.weightsSha256 ? ` (weights SHA-256 \`${c.hypernet.weightsSha256}\`)` : ''}`]
      : []),
    ...(c.lora
      ? [
          `- **LoRA**: rank ${c.lora.rank}, alpha ${c.lora.alpha}, target modules ${Array.isArray(c.lora.targets) ? c.lora.targets.join(', ') : `\`${String(c.lora.targets)}\``}${c.lora.fusion ? `, instruction fusion '${c.lora.fusion}'` : ''}`,
        ]
      : []),
    `- **Files**: ${c.files.map((f) => `\`${f}\``).join(', ')}`,
  ];
  const id = c.repo;
  const notes: string[] = [];
  if (c.kind === 'task-adapter' && c.lora?.fusion !== undefined && c.lora.fusion !== 'none') {
    notes.push(
      `With fusion '${c.lora.fusion}' the peft files are the LoRA part of the TAGI student; \`tagi_fusion.safetensors\` holds the encoded instruction it also reads (see \`tagi_adapter.json\` and the @tagi/hypernet README).`,
    );
  }
  const use: string[] = [];
  const modelFlag = c.baseModelId ?? (c.baseModelFolder !== undefined ? `<snapshot of ${id}>/${c.baseModelFolder}` : 'HF_T5_DIR');
  if (c.kind === 'hypernet') {
    use.push('```bash', `npx @tagi/trainer generate --hypernet=${id} --instruction="Return the last word of the input." --out=my-adapter`, '```');
    if (c.baseModelFolder !== undefined) use.push('', `The base model comes with it (\`${c.baseModelFolder}/\`), so \`--model\` is not needed.`);
  } else if (c.kind === 'task-adapter') {
    use.push(
      `A self-describing task-adapter export (\`tagi_adapter.json\` says what each file is): in JavaScript, \`readTaskAdapter(dir, base)\` of \`@tagi/hypernet/node\` rebuilds the TAGI student on the base model and \`generateWithTask\` of \`@tagi/hypernet\` runs it; \`resolvePretrained('${id}', { files })\` of \`@tagi/t5-model/node\` downloads it into the HF cache.`,
    );
  } else {
    use.push('```bash', `npx @tagi/trainer eval --model=${modelFlag} --adapter=${id}`, '```');
  }
  // peft alone is the whole model unless the hypernetwork fuses the instruction in
  if (c.kind !== 'hypernet' && c.baseModelId !== undefined && (c.lora?.fusion === undefined || c.lora.fusion === 'none')) {
    use.push(
      '',
      'In Python:',
      '',
      '```python',
      'from peft import PeftModel',
      'from transformers import AutoModelForSeq2SeqLM',
      `model = PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained(${q(c.baseModelId)}), ${q(id)})`,
      '```',
    );
  }
  const sections = [
    `# ${id}`,
    '',
    `This is ${TITLES[c.kind]} ([TAGI](https://arxiv.org/abs/2406.12382), Liao et al., NeurIPS 2024; pushed with \`tagi push\` of [@tagi/trainer](https://www.npmjs.com/package/@tagi/trainer)).`,
    '',
    ...facts,
    ...(notes.length > 0 ? ['', ...notes] : []),
    ...(c.hypernetConfig ? ['', '## Hypernetwork', '', '```json', JSON.stringify(c.hypernetConfig, null, 2), '```'] : []),
    '',
    '## Use it',
    '',
    ...use,
    ...(c.evaluation ? ['', '## Evaluation', '', `From \`${c.evaluation.source}\` of the run that made it:`, '', c.evaluation.markdown.trim()] : []),
    '',
  ];
  return `${cardMetadata(c)}\n${sections.join('\n')}`;
}

/**
 * The part of a run's results.md a card shows: the run line and the score tables, up to the paired differences
 * (the rest stays in the run's own file).
 */
export function evaluationExcerpt(resultsMd: string): string {
  const cut = resultsMd.search(/^\*\*Paired differences/m);
  const text = cut >= 0 ? resultsMd.slice(0, cut) : resultsMd.split('\n').slice(0, 40).join('\n');
  return text.replace(/^(#{1,3}) /gm, '### ').trim();
}
