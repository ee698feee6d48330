// Path flags as a user types them: `~` and `~/…` are the home directory (the shell does not expand a `~`
// after `--flag=`), relative paths are taken from where the command runs. `--model` may also be a Hub id
// `org/name[@revision]`: an existing path wins, otherwise a string that parses as an id stays an id (it is
// resolved through the HF cache once, before anything is created: inputs.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { expandHome, parseHubId } from '@tagi/t5-model/node';

/** A path flag's value as an absolute path: `~` expanded, then resolved against `cwd`. */
export function resolvePath(cwd: string, p: string): string {
  return path.resolve(cwd, expandHome(p));
}

/** `--model`'s value: an absolute directory path when one exists (or the value cannot be an id), else the Hub id as given. */
export function resolveModelArg(cwd: string, value: string): string {
  const local = resolvePath(cwd, value);
  if (existsSync(local) || value.startsWith('~') || value.startsWith('.') || path.isAbsolute(value) || parseHubId(value) === undefined) return local;
  return value;
}

/** A `--model` value that resolveModelArg kept as a Hub id (not an absolute path). */
export function isHubModel(value: string): boolean {
  return !path.isAbsolute(value) && parseHubId(value) !== undefined;
}

/** `--data`'s value: a path (absolute, `~` expanded) when it names one or looks like one, else a dataset name as given. */
export function resolveDataArg(cwd: string, value: string): string {
  if (value === 'embedded' || value.startsWith('embedded:')) return value;
  const local = resolvePath(cwd, value);
  return value.includes('/') || value.includes(path.sep) || value.startsWith('~') || existsSync(local) ? local : value;
}
