// @ts-expect-error -- the shared config is plain JS without type declarations
import { tagiVitestConfig } from '@tagi/vitest-config';

export default tagiVitestConfig();
