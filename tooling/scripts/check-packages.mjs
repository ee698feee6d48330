#!/usr/bin/env node
// Package hygiene, checked on the built packages (run after `pnpm build`):
//   - every `files` entry exists; LICENSE is shipped; a package that bundles third-party data (a NOTICE anywhere in
//     its published files) ships a NOTICE at its root;
//   - `engines.node` is set and peer ranges admit the versions the workspace builds and tests with;
//   - every bare import of a published entry (static or dynamic, in dist/) is a dependency, a peer dependency or a Node
//     built-in: nothing dev-only reaches users;
//   - browser-safe entries (the main entry and any export without "node" in its subpath, unless the export says
//     `"browser": null`, as t5-model's `./testing` (a local Hub server) does) import no `node:` module.
// Prints one line per problem and exits 1 when there is any.
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const problems = [];
const fail = (pkg, msg) => problems.push(`${pkg}: ${msg}`);
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const catalog = Object.fromEntries(
  [...fs.readFileSync(path.join(root, 'pnpm-workspace.yaml'), 'utf8').matchAll(/^ {2}"?([@\w/.-]+)"?: (\S+)$/gm)].map((m) => [m[1], m[2]]),
);

function* walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Bare module specifiers imported by a built JS file (static imports/exports, dynamic import(), require()). */
export function bareImports(code) {
  const out = new Set();
  const patterns = [
    /\bfrom\s*["']([^"'./][^"']*)["']/g,
    /\bimport\s*["']([^"'./][^"']*)["']/g,
    /\bimport\(\s*["']([^"'./][^"']*)["']\s*\)/g,
    /\brequire\(\s*["']([^"'./][^"']*)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.add(m[1]);
  return out;
}

const packageName = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Semver-ish check for the ranges we use: exact, ^x.y.z, >=x.y.z, or a || of those. */
function admits(range, version) {
  const v = version.split('.').map(Number);
  const cmp = (a, b) => a.reduce((r, x, i) => r || x - (b[i] ?? 0), 0);
  return range.split('||').some((part) => {
    const r = part.trim();
    if (r.startsWith('^')) {
      const b = r.slice(1).split('.').map(Number);
      return cmp(v, b) >= 0 && (b[0] > 0 ? v[0] === b[0] : v[1] === b[1]);
    }
    if (r.startsWith('>=')) return cmp(v, r.slice(2).split('.').map(Number)) >= 0;
    return r === version;
  });
}

for (const name of fs.readdirSync(path.join(root, 'packages')).sort()) {
  const dir = path.join(root, 'packages', name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  const id = pkg.name;
  if (!fs.existsSync(path.join(dir, 'dist'))) {
    fail(id, 'no dist/ (run pnpm build first)');
    continue;
  }
  for (const f of pkg.files ?? []) if (!fs.existsSync(path.join(dir, f))) fail(id, `files lists '${f}', which does not exist`);
  const shipped = (pkg.files ?? []).flatMap((f) => {
    const p = path.join(dir, f);
    return fs.existsSync(p) ? (fs.statSync(p).isDirectory() ? [...walk(p)] : [p]) : [];
  });
  if (!pkg.license) fail(id, 'no license field');
  if (!fs.existsSync(path.join(dir, 'LICENSE')) || !(pkg.files ?? []).includes('LICENSE')) fail(id, 'LICENSE file missing or not in files');
  const notices = shipped.filter((p) => path.basename(p) === 'NOTICE' && path.dirname(p) !== dir);
  if (notices.length > 0 && !fs.existsSync(path.join(dir, 'NOTICE')))
    fail(id, `bundles third-party data (${path.relative(dir, notices[0])}) but has no NOTICE at its root`);
  if (!pkg.engines?.node) fail(id, 'engines.node is not set');
  for (const [peer, range] of Object.entries(pkg.peerDependencies ?? {})) {
    const built = catalog[peer];
    if (built && /^\d/.test(built) && !admits(range, built)) fail(id, `peer ${peer}@${range} does not admit ${built}, the version the workspace tests with`);
  }
  const allowed = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), id]);
  const devOnly = new Set(Object.keys(pkg.devDependencies ?? {}).filter((d) => !allowed.has(d)));
  const browserEntries = new Set();
  for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
    if (sub.includes('node') || sub === './package.json') continue;
    if (target && typeof target === 'object' && target.browser === null) continue; // declared not for browsers
    // conditions nest (import/require → types/default): collect every file path at any depth
    const leaves = (x) => (typeof x === 'string' ? [x] : Object.values(x ?? {}).flatMap(leaves));
    const t = leaves(target);
    for (const f of t) if (typeof f === 'string' && /\.(c|m)?js$/.test(f)) browserEntries.add(path.join(dir, f));
  }
  // the files each browser entry reaches through relative imports (tsup chunks)
  const reach = (file, seen = new Set()) => {
    if (seen.has(file) || !fs.existsSync(file)) return seen;
    seen.add(file);
    const code = fs.readFileSync(file, 'utf8');
    for (const m of code.matchAll(/(?:from|import|require\()\s*\(?\s*["'](\.[^"']+)["']/g)) reach(path.resolve(path.dirname(file), m[1]), seen);
    return seen;
  };
  const browserFiles = new Set([...browserEntries].flatMap((e) => [...reach(e)]));
  for (const file of walk(path.join(dir, 'dist'))) {
    if (!/\.(c|m)?js$/.test(file)) continue;
    const code = fs.readFileSync(file, 'utf8');
    for (const spec of bareImports(code)) {
      if (builtins.has(spec)) {
        if (browserFiles.has(file)) fail(id, `${path.relative(dir, file)} (reached from a browser-safe entry) imports '${spec}'`);
        continue;
      }
      const dep = packageName(spec);
      if (devOnly.has(dep)) fail(id, `${path.relative(dir, file)} imports '${spec}', which is only a devDependency`);
      else if (!allowed.has(dep)) fail(id, `${path.relative(dir, file)} imports '${spec}', which is not a dependency`);
    }
  }
}

for (const p of problems) console.log(`check-packages: ${p}`);
console.log(problems.length === 0 ? 'check-packages: every published package is clean' : `check-packages: ${problems.length} problem(s)`);
process.exit(problems.length === 0 ? 0 : 1);
