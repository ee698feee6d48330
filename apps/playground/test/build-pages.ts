// vitest globalSetup: builds the pages' scripts (src/page/ → dist/page/app.js, in-page.js) once before the
// tests, as `pnpm build` does, so a fresh checkout's browser tests load the page from its TypeScript
// sources without a prior build. About a second: the pages bundle nothing but themselves.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { appDir } from './spawn-server';

export default function buildPages(): void {
  const tsup = path.join(appDir, 'node_modules', 'tsup', 'dist', 'cli-default.js');
  const r = spawnSync(process.execPath, [tsup, '--config', 'tsup.page.config.ts'], { cwd: appDir, encoding: 'utf8', timeout: 2 * 60_000 });
  if (r.status !== 0) throw new Error(`building the pages (tsup.page.config.ts) failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}
