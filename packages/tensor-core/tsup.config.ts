import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/native-logs.ts', 'src/testing.ts'],
  format: ['esm', 'cjs'],
  // one shared chunk per module in CJS too, so entries (index, node, testing) share classes and state
  splitting: true,
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
  // tfjs-core's gradient registrations exist only as ESM with extension-less imports, which Node
  // cannot load from a CommonJS-typed package; bundle them (as the @tensorflow/tfjs union does).
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
