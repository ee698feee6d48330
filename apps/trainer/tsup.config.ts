import { appConfig } from '@tagi/tsup-config';

export default appConfig({ entry: ['src/cli.ts', 'src/index.ts'] });
