import type { Options } from 'tsup';

/** A published library: ESM and CJS with declarations, shared chunks (`options` adds entries and package-specific settings). */
export function libraryConfig(options: Options & { entry: string[] }): Options;
/** An app: ESM executables (`options` adds entries and package-specific settings). */
export function appConfig(options: Options & { entry: string[] }): Options;
