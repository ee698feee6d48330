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
      ...test,
    },
  });
}

export default tagiVitestConfig();
