import { defineConfig } from 'tsup';

// The playground's own pages (src/page/), one ES module per HTML page, served by the server as /app.js
// (index.html) and /in-page.js (in-page.html). They import only each other and types, so each is a few
// kB; the model runner is the separate bundle of tsup.web.config.ts, imported on demand by URL.
export default defineConfig({
  entry: { app: 'src/page/main.ts', 'in-page': 'src/page/in-page.ts' },
  outDir: 'dist/page',
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  splitting: false,
  sourcemap: true,
  minify: false,
  clean: true,
  dts: false,
  tsconfig: 'tsconfig.build.json',
});
