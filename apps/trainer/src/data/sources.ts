// What `--data` names and which command reads it: an embedded suite ('embedded' = the default one,
// 'embedded:compositional-v1' a named one), an SNI directory (instruction
// tasks: every command), a P3 directory (rank classification: `tagi eval`), a text corpus — a .jsonl file
// of {"text": …} documents, a .txt file, or a directory of them (hypernetwork pretraining: `tagi pretrain`)
// — or the name of a registered dataset. Checked at the command line (no heavy imports here), so a wrong
// kind costs nothing and leaves nothing behind.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_EMBEDDED_SUITE, EMBEDDED_SUITES, type EmbeddedSuiteName } from '@tagi/datasets';
import { CliError } from '../common/errors.js';

export type DataKind =
  | { readonly kind: 'embedded'; readonly suite: EmbeddedSuiteName }
  | { readonly kind: 'sni'; readonly dir: string }
  | { readonly kind: 'p3'; readonly dir: string }
  | { readonly kind: 'text'; readonly files: readonly string[] }
  | { readonly kind: 'name'; readonly name: string };

const TEXT_FILE = /\.(jsonl|txt)$/;

/** The P3 layout of ../shared/data/p3: promptsource templates plus SuperGLUE and/or ANLI files. */
export function isP3Dir(dir: string): boolean {
  return (
    path.isAbsolute(dir) &&
    existsSync(path.join(dir, 'promptsource', 'templates')) &&
    (existsSync(path.join(dir, 'superglue')) || existsSync(path.join(dir, 'anli')))
  );
}

const EXPECTED =
  "'embedded' (or 'embedded:SUITE'), an SNI directory (tasks/ + splits/), a P3 directory (promptsource/templates/ + superglue/ or anli/; tagi eval), a .jsonl / .txt corpus or a directory of them (tagi pretrain), or a registered dataset name";

/** Classifies `--data` (already resolved: absolute when it is a path). Throws CliError naming the flag for a path of no known kind. */
export function classifyData(data: string): DataKind {
  if (data === 'embedded') return { kind: 'embedded', suite: DEFAULT_EMBEDDED_SUITE };
  if (data.startsWith('embedded:')) {
    const suite = data.slice('embedded:'.length);
    if (!(EMBEDDED_SUITES as readonly string[]).includes(suite))
      throw new CliError(`--data: '${data}' names no embedded suite (expected embedded:${EMBEDDED_SUITES.join(' | embedded:')})`);
    return { kind: 'embedded', suite: suite as EmbeddedSuiteName };
  }
  if (!path.isAbsolute(data)) return { kind: 'name', name: data };
  if (!existsSync(data)) throw new CliError(`--data: '${data}' does not exist (expected ${EXPECTED})`);
  if (statSync(data).isFile()) {
    if (TEXT_FILE.test(data)) return { kind: 'text', files: [data] };
    throw new CliError(`--data: '${data}' is a file but neither .jsonl (one {"text": …} document per line) nor .txt (documents separated by blank lines)`);
  }
  if (existsSync(path.join(data, 'tasks')) && existsSync(path.join(data, 'splits'))) return { kind: 'sni', dir: data };
  if (isP3Dir(data)) return { kind: 'p3', dir: data };
  const files = readdirSync(data)
    .filter((f) => TEXT_FILE.test(f) && statSync(path.join(data, f)).isFile())
    .sort();
  if (files.length > 0) return { kind: 'text', files: files.map((f) => path.join(data, f)) };
  throw new CliError(
    `--data: '${data}' is not an SNI directory (tasks/ + splits/), a P3 directory (promptsource/templates/ + superglue/ or anli/) or a directory of .jsonl / .txt documents`,
  );
}

/** Which kinds each command reads, and what to say when it is given another. */
export function checkDataFor(command: string, data: string): DataKind {
  const d = classifyData(data);
  if (d.kind === 'p3' && command !== 'eval') {
    throw new CliError(
      `--data: '${d.dir}' is a P3 directory: rank classification, read by 'tagi eval' only ('tagi ${command}' trains on instruction tasks: 'embedded' or an SNI directory)`,
    );
  }
  if (d.kind === 'text' && command !== 'pretrain') {
    throw new CliError(
      `--data: '${d.files[0]}'${d.files.length > 1 ? ` (and ${d.files.length - 1} more)` : ''} is a text corpus: hypernetwork pretraining documents, read by 'tagi pretrain' only ('tagi ${command}' needs instruction tasks: 'embedded' or an SNI directory)`,
    );
  }
  if (d.kind === 'name' && (d.name === 'sni' || d.name === 'p3')) {
    // the LM-adapt presets say data 'sni': the registered loader needs its directory
    throw new CliError(
      `--data: '${d.name}' needs its directory: give --data=${d.name === 'sni' ? 'SNI_DIR (natural-instructions layout: tasks/ + splits/default/{train,test}_tasks.txt)' : 'P3_DIR (promptsource/templates/ + superglue/ or anli/)'}`,
    );
  }
  return d;
}
