// A run's config resolved from its sources: the preset, then a config file, then `--key=value`
// overrides (dotted keys), validated by the one schema of config.ts.
import { readFileSync } from 'node:fs';
import { ALL_PATHS, type JsonObject, type TagiConfig, coerceValue, deepMerge, isObject, setDotted, unknownKeys, validateConfig } from './config.js';
import { CliError, ConfigError } from '../common/errors.js';
import { PRESETS, PRESET_NAMES } from './presets.js';
import { didYouMean } from '../common/suggest.js';

export function presetConfig(name: string): JsonObject {
  const p = PRESETS[name];
  if (p === undefined) throw new CliError(`unknown preset '${name}'${didYouMean(name, PRESET_NAMES)}; expected one of ${PRESET_NAMES.join(', ')}`);
  return structuredClone(p) as unknown as JsonObject;
}

export interface ResolveOptions {
  /** --preset (otherwise the config file's preset, otherwise defaultPreset). */
  preset?: string;
  /** --config file.json */
  configFile?: string;
  /** `--key=value` overrides, keys dotted camelCase, values raw strings. */
  overrides?: readonly (readonly [string, string])[];
  defaultPreset?: string;
}

/** preset → config file → overrides, validated by the schema. */
export function resolveConfig(opts: ResolveOptions): TagiConfig {
  let fileObj: JsonObject | undefined;
  if (opts.configFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.configFile, 'utf8');
    } catch (e) {
      throw new CliError(`--config: cannot read '${opts.configFile}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new CliError(`--config: '${opts.configFile}' is not valid JSON: ${(e as Error).message}`);
    }
    if (!isObject(parsed)) throw new CliError(`--config: '${opts.configFile}' must hold a JSON object`);
    fileObj = parsed;
  }
  const presetName =
    opts.preset ?? (fileObj !== undefined && typeof fileObj['preset'] === 'string' ? fileObj['preset'] : undefined) ?? opts.defaultPreset ?? 'tiny';
  let merged = presetConfig(presetName);
  if (fileObj !== undefined) {
    // the file's unknown keys are reported against the file, before merging
    const unknown = unknownKeys(fileObj, '').map((k) => `${k}: unknown key${didYouMean(k, ALL_PATHS)}`);
    if (unknown.length > 0) throw new ConfigError(unknown, opts.configFile ?? 'config file');
    merged = deepMerge(merged, fileObj);
  }
  merged['preset'] = presetName;
  for (const [key, raw] of opts.overrides ?? []) setDotted(merged, key, coerceValue(key, raw));
  return validateConfig(merged, opts.configFile ?? 'command line');
}
