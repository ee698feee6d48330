import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

// The in-page runner (src/web/tagi-browser.ts) as one ES module for the browser, served by the server at
// /web/tagi-browser.js. Workspace packages are bundled from their sources, as the tests run them (the
// same mapping as tooling/vitest-config), so the page runs exactly the code the server runs; any
// Node-only import reachable from a package's main entry fails this build, naming the import.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export default defineConfig({
  entry: { 'tagi-browser': 'src/web/tagi-browser.ts' },
  outDir: 'dist/web',
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  splitting: false,
  sourcemap: true,
  minify: true,
  clean: true,
  dts: false,
  noExternal: [/.*/],
  tsconfig: 'tsconfig.build.json',
  esbuildPlugins: [
    {
      name: 'tagi-workspace-sources',
      setup(build) {
        build.onResolve({ filter: /^@tagi\/[\w-]+(\/[\w-]+)?$/ }, (args) => {
          const [, name, sub] = /^@tagi\/([\w-]+)(?:\/([\w-]+))?$/.exec(args.path)!;
          return { path: path.join(repo, 'packages', name!, 'src', `${sub ?? 'index'}.ts`) };
        });
      },
    },
  ],
});
