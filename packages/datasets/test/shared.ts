// Locates ../shared (reference data beside the repo) for tests; absent in some CI clones.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const hasShared = existsSync(path.join(sharedDir, 'data'));
export const SKIP_MESSAGE = `reference data not found at ${sharedDir} (tests that read ../shared are skipped)`;
if (!hasShared) console.warn(SKIP_MESSAGE);
