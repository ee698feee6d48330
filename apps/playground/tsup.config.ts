import { appConfig } from '@tagi/tsup-config';

// The server; the pages (src/page/, tsup.page.config.ts) and the in-page runner (src/web/, tsup.web.config.ts)
// are browser bundles with recipes of their own.
export default appConfig({ entry: ['src/server.ts'] });
