// The one target language of TAGI-TS: which modules a LoRA targets. Everything that selects modules
// (@tagi/lora's adapters, banks and teachers; @tagi/hypernet's generated adapters; the trainer's
// `teachers.targetModules`, `multitask.targetModules` and `hypernet.targetModules`) reads its value here.
//
// It is peft's `target_modules`, plus one extension:
//   - a string is a regular expression that must match the WHOLE module path (Python's re.fullmatch):
//     `'.*SelfAttention\\.(q|v)'` selects `encoder.block.0.layer.0.SelfAttention.q`, while
//     `'SelfAttention\\.(q|v)'` selects nothing;
//   - a list holds module names: an entry selects the paths equal to it or ending in `.<entry>`
//     (`['q', 'v']`; `'SelfAttention.q'` is a name too, its dot a path separator);
//   - extension: a list entry containing regex syntax (one of `\ ^ $ * + ? ( ) [ ] { } |`) is a full-match
//     regex of its own (`['q', 'decoder\\.block\\.0\\.layer\\.1\\.EncDecAttention\\.v']`). hypernet_config.json
//     files have held such entries since before lists of names were accepted. Python peft would read them as
//     literal names, so a config holding one is written to adapter_config.json as the single equivalent
//     regex ({@link targetModulesRegex}).
// No module name of a T5 (or any PyTorch attribute path) contains those characters, so every list that
// peft reads as names is read as names here too.
// This file is pure (no tensors, no modules): the config parser and the module walk both build on it.

/** Which modules receive adapters: a regex matched against the FULL module path, or a list of names (or regex entries). */
export type TargetModules = string | readonly string[];

const REGEX_SYNTAX = /[\\^$*+?()[\]{}|]/;

/** Is this list entry a regex (it holds regex syntax) rather than a module name? */
export function isTargetPattern(entry: string): boolean {
  return REGEX_SYNTAX.test(entry);
}

/** `pattern` compiled to match a whole module path (re.fullmatch). */
function fullMatch(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Why `pattern` is not a valid regular expression (the engine's message), or undefined when it is. */
export function targetPatternError(pattern: string): string | undefined {
  try {
    fullMatch(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Does one list entry select `path`? */
function entryMatches(path: string, entry: string): boolean {
  return isTargetPattern(entry) ? fullMatch(entry).test(path) : path === entry || path.endsWith(`.${entry}`);
}

/** Does `targets` select the module at `path`? */
export function matchesTarget(path: string, targets: TargetModules): boolean {
  if (typeof targets === 'string') return fullMatch(targets).test(path);
  return targets.some((t) => entryMatches(path, t));
}

/**
 * The one regular expression (matched against the whole path, as peft matches a string) that selects
 * exactly what `targets` selects: a string is returned as is; the names of a list become
 * `(?:.*\.)?(?:name1|name2)` (peft's "equal to or ending in `.<name>`"), each regex entry `(?:entry)`,
 * joined by `|` (the names first and sorted, then the regex entries in their order). For settings that take one regex, and for writing a list
 * with regex entries to adapter_config.json so that Python peft selects the same modules.
 */
export function targetModulesRegex(targets: TargetModules): string {
  if (typeof targets === 'string') return targets;
  const names = targets.filter((t) => !isTargetPattern(t));
  const patterns = targets.filter(isTargetPattern);
  const escaped = [...new Set(names)].sort().map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return [...(names.length > 0 ? [`(?:.*\\.)?(?:${escaped.join('|')})`] : []), ...[...new Set(patterns)].map((p) => `(?:${p})`)].join('|');
}
