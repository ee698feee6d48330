import type { Options } from 'tsup';

/**
 * The config object a package's tsup.config.ts exports. Named here (not as tsup's `Options`) so a package's
 * type check does not have to name the copy of tsup under tooling/tsup-config.
 */
export interface TagiTsupConfig {
  readonly entry: string[];
  readonly [setting: string]: unknown;
}

/** A published library: ESM and CJS with declarations, shared chunks (`options` adds entries and package-specific settings). */
export function libraryConfig(options: Options & { entry: string[] }): TagiTsupConfig;
/** An app: ESM executables (`options` adds entries and package-specific settings). */
export function appConfig(options: Options & { entry: string[] }): TagiTsupConfig;
