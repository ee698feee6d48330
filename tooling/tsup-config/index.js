// Shared tsup recipes. Every package builds from tsconfig.build.json, with source maps, into a cleaned
// dist/ for Node 20; a package's tsup.config.ts names its entries and only what is its own.
import { defineConfig } from 'tsup';

const common = { tsconfig: 'tsconfig.build.json', sourcemap: true, clean: true, target: 'node20' };

/** A published library: ESM and CJS with declarations; one shared chunk per module in CJS too, so entries (index, node, testing) share classes and state. */
export function libraryConfig(options) {
  return defineConfig({ ...common, format: ['esm', 'cjs'], splitting: true, dts: true, ...options });
}

/** An app: one ESM bundle per entry, started as an executable. */
export function appConfig(options) {
  return defineConfig({ ...common, format: ['esm'], dts: false, banner: { js: '#!/usr/bin/env node' }, ...options });
}
