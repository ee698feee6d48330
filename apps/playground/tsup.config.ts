import { defineConfig } from 'tsup';

// The page is plain ES modules under public/ served as files (no bundler, no framework): the server
// finds it as ../public from both src/ (tests, tsx) and dist/ (built).
export default defineConfig({
  entry: ['src/server.ts'],
  format: ['esm'],
  dts: false,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
});
