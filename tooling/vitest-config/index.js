// Shared vitest config. Workspace packages resolve to their TypeScript sources so tests run
// without a prior build; `@tagi/x/sub` maps to `packages/x/src/sub.ts`.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const workspaceAlias = [
  { find: /^@tagi\/([\w-]+)\/([\w-]+)$/, replacement: `${root}/packages/$1/src/$2.ts` },
  { find: /^@tagi\/([\w-]+)$/, replacement: `${root}/packages/$1/src/index.ts` },
];

/** @param {import('vitest/config').UserConfig} [overrides] */
export function tagiVitestConfig(overrides = {}) {
  const test = overrides.test ?? {};
  // tooling/scripts/test-all.mjs collects one JSON report per package to print a closing total
  const jsonDir = process.env.TAGI_VITEST_JSON;
  const name = path.basename(process.cwd());
  const reporters = jsonDir
    ? [
        'default',
        [
          'json',
          { outputFile: path.join(jsonDir, `${name}${process.env.TAGI_TEST_BACKENDS ? '-' + process.env.TAGI_TEST_BACKENDS.replace(/\W+/g, '_') : ''}.json`) },
        ],
      ]
    : ['default'];
  return defineConfig({
    ...overrides,
    resolve: { alias: workspaceAlias },
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      fileParallelism: false,
      reporters,
      ...test,
    },
  });
}

export default tagiVitestConfig();
