import { libraryConfig } from '@tagi/tsup-config';

export default libraryConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/testing.ts'],
  // the CJS build reads import.meta.url (DEFAULT_TOKENIZER_DIR in src/node.ts): tsup's shim derives it from __filename
  shims: true,
});
