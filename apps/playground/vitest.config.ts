import { tagiVitestConfig } from '@tagi/vitest-config';

// the page is TypeScript (src/page/) served as built scripts: build them before any test loads it
export default tagiVitestConfig({ test: { globalSetup: ['test/build-pages.ts'] } });
