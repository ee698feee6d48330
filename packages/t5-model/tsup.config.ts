import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/testing.ts'],
  format: ['esm', 'cjs'],
  // one shared chunk per module in CJS too, so entries (index, node, testing) share classes and state
  splitting: true,
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
  // the CJS build reads import.meta.url (DEFAULT_TOKENIZER_DIR in src/node.ts): tsup's shim derives it from __filename
  shims: true,
});
