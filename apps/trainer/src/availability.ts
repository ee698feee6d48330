// Which library exports a stage needs, and which of them this build lacks. The demo runs the stages
// whose libraries are present and reports the others as unavailable — it never fills in numbers.

export type LibName = '@tagi/tensor-core' | '@tagi/t5-model' | '@tagi/lora' | '@tagi/hypernet' | '@tagi/distill' | '@tagi/datasets' | '@tagi/eval';

const loaders: Record<LibName, () => Promise<Record<string, unknown>>> = {
  '@tagi/tensor-core': () => import('@tagi/tensor-core') as Promise<Record<string, unknown>>,
  '@tagi/t5-model': () => import('@tagi/t5-model') as Promise<Record<string, unknown>>,
  '@tagi/lora': () => import('@tagi/lora') as Promise<Record<string, unknown>>,
  '@tagi/hypernet': () => import('@tagi/hypernet') as Promise<Record<string, unknown>>,
  '@tagi/distill': () => import('@tagi/distill') as Promise<Record<string, unknown>>,
  '@tagi/datasets': () => import('@tagi/datasets') as Promise<Record<string, unknown>>,
  '@tagi/eval': () => import('@tagi/eval') as Promise<Record<string, unknown>>,
};

export type Requirements = Partial<Record<LibName, readonly string[]>>;

/** `lib.export` names in `req` that the installed libraries do not export. */
export async function missingExports(req: Requirements): Promise<string[]> {
  const missing: string[] = [];
  for (const [lib, names] of Object.entries(req) as [LibName, readonly string[]][]) {
    let mod: Record<string, unknown>;
    try {
      mod = await loaders[lib]();
    } catch (e) {
      missing.push(`${lib} (cannot load: ${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    for (const n of names) if (mod[n] === undefined) missing.push(`${lib}.${n}`);
  }
  return missing;
}
