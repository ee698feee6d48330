import { libraryConfig } from '@tagi/tsup-config';

export default libraryConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/native-logs.ts', 'src/json-file.ts', 'src/testing.ts'],
  // tfjs-core's gradient registrations exist only as ESM with extension-less imports, which Node
  // cannot load from a CommonJS-typed package; bundle them (as the @tensorflow/tfjs union does).
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});
