import { libraryConfig } from '@tagi/tsup-config';

export default libraryConfig({ entry: ['src/index.ts', 'src/node.ts'] });
