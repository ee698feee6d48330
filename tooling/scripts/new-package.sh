#!/usr/bin/env bash
# Scaffold a workspace package: tooling/scripts/new-package.sh <name> "<one purpose sentence>" [dep ...]
set -euo pipefail
name=$1; desc=$2; shift 2
dir=packages/$name
mkdir -p "$dir/src"
deps=""
for d in "$@"; do deps="$deps\"$d\": \"$( [[ $d == @tagi/* ]] && echo 'workspace:*' || echo 'catalog:')\", "; done
deps=${deps%, }
cat > "$dir/package.json" <<JSON
{
  "name": "@tagi/$name",
  "version": "0.0.0",
  "description": "$desc",
  "license": "Apache-2.0",
  "type": "module",
  "sideEffects": false,
  "main": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "exports": {
    ".": { "types": "./dist/index.d.ts", "import": "./dist/index.js" },
    "./package.json": "./package.json"
  },
  "files": ["dist", "README.md", "CHANGELOG.md", "NOTICE"],
  "scripts": {
    "build": "tsup",
    "typecheck": "tsc -p tsconfig.json",
    "test": "vitest run",
    "bench": "node --version",
    "publint": "publint --strict"
  },
  "dependencies": { $deps },
  "devDependencies": {
    "@tagi/tsconfig": "workspace:*",
    "@tagi/vitest-config": "workspace:*",
    "@types/node": "catalog:",
    "tsup": "catalog:",
    "typescript": "catalog:",
    "vitest": "catalog:"
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{ "extends": "../../tooling/tsconfig/source.json", "include": ["src", "test", "bench", "*.config.ts"] }
JSON
cat > "$dir/tsconfig.build.json" <<JSON
{ "extends": "../../tooling/tsconfig/base.json", "include": ["src"], "exclude": ["src/**/*.test.ts"] }
JSON
cat > "$dir/tsup.config.ts" <<TS
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
TS
cat > "$dir/vitest.config.ts" <<TS
import { tagiVitestConfig } from '@tagi/vitest-config';

export default tagiVitestConfig();
TS
[ -f "$dir/CHANGELOG.md" ] || printf '# @tagi/%s\n' "$name" > "$dir/CHANGELOG.md"
[ -f "$dir/README.md" ] || printf '# @tagi/%s\n\n%s\n' "$name" "$desc" > "$dir/README.md"
[ -f "$dir/src/index.ts" ] || printf '// Public API of @tagi/%s.\nexport {};\n' "$name" > "$dir/src/index.ts"
