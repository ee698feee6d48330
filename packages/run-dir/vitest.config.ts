import { tagiVitestConfig } from '@tagi/vitest-config';

export default tagiVitestConfig();
