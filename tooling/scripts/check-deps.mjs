#!/usr/bin/env node
// Checks the one-way dependency direction of docs/CONTRACTS.md (and ARCHITECTURE.md): every import of a
// workspace package from a package's src/ must be allowed, and no package may import an app.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const allowed = {
  'tensor-core': [],
  't5-model': ['tensor-core'],
  lora: ['tensor-core'],
  distill: ['tensor-core'],
  hypernet: ['tensor-core', 't5-model', 'lora', 'distill'],
  datasets: [],
  eval: [],
  // the run dir's files: results.json is eval's schema; atomic writes and sorted JSON are tensor-core's (its tfjs-free json-file entry)
  'run-dir': ['tensor-core', 'eval'],
};
// test files may use more (lora's tests run on a real T5, hypernet's on the embedded suite)
const allowedInTests = { lora: ['t5-model', 'datasets'], hypernet: ['datasets'], distill: ['lora', 't5-model'] };
const apps = fs.readdirSync(path.join(root, 'apps'));
const problems = [];

function* walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(e.name)) yield p;
  }
}
for (const pkg of fs.readdirSync(path.join(root, 'packages'))) {
  if (!(pkg in allowed)) {
    problems.push(`packages/${pkg}: not in the dependency table of check-deps.mjs`);
    continue;
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'packages', pkg, 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    const m = /^@tagi\/(.+)$/.exec(dep);
    if (m && !allowed[pkg].includes(m[1])) problems.push(`packages/${pkg}/package.json: depends on ${dep}, not allowed`);
    if (m && apps.includes(m[1])) problems.push(`packages/${pkg}/package.json: depends on the app ${dep}`);
  }
  for (const file of walk(path.join(root, 'packages', pkg, 'src'))) {
    const isTest = /\.test\.|__fixtures__|\/testing\//.test(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"](@tagi\/[\w-]+|\.\.\/[^'"]*)/g)) {
      const spec = m[1];
      let target;
      if (spec.startsWith('@tagi/')) target = spec.slice(6);
      else {
        const resolved = path.resolve(path.dirname(file), spec);
        const rel = path.relative(root, resolved).split(path.sep);
        if (rel[0] === 'apps') {
          problems.push(`${path.relative(root, file)}: imports the app ${rel[1]}`);
          continue;
        }
        if (rel[0] === 'packages' && rel[1] !== pkg) target = rel[1];
        else continue;
        problems.push(`${path.relative(root, file)}: reaches into packages/${target} by a relative path; import @tagi/${target}`);
        continue;
      }
      if (apps.includes(target)) {
        problems.push(`${path.relative(root, file)}: imports the app @tagi/${target}`);
        continue;
      }
      if (target === pkg) continue;
      const ok = allowed[pkg].includes(target) || (isTest && (allowedInTests[pkg] ?? []).includes(target));
      if (!ok) problems.push(`${path.relative(root, file)}: imports @tagi/${target}, which ${pkg} may not depend on`);
    }
  }
}
if (problems.length) {
  console.error(`dependency direction: ${problems.length} problem(s)\n  ` + problems.join('\n  '));
  process.exit(1);
}
console.log('dependency direction: ok');
