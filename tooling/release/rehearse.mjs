#!/usr/bin/env node
// Release rehearsal: the packages as users get them.
//   1. A throwaway copy of the workspace (the repo is never changed): `changeset version`, then `pnpm -r publish` to a
//      local Verdaccio started here (our @tagi/* packages live only there; everything else is proxied from npmjs).
//   2. For every published package, in a fresh directory outside the workspace with only that registry configured:
//      `npm i <package>` alone (install size recorded), the README's usage block (the first ```js block after the
//      "## Usage" heading) run with plain `node` as an ES module, an ES-module TypeScript consumer and a CommonJS
//      TypeScript consumer (the `npm init -y` default) type-checked with `module: node16`, and `require()` at run time.
// Prints a table (and `--json FILE` writes it). Exit 1 when any check fails; exit 0 with "skipped" when the npm registry
// cannot be reached (third-party dependencies come from it). Options: --only=lora,eval  --keep  --json FILE
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const a = args.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  if (a.includes('=')) return a.slice(a.indexOf('=') + 1);
  const i = args.indexOf(a);
  return args[i + 1] && !args[i + 1].startsWith('--') ? args[i + 1] : true;
};
const only = typeof opt('only') === 'string' ? new Set(opt('only').split(',').map((s) => (s.startsWith('@tagi/') ? s : `@tagi/${s}`))) : undefined;
const keep = opt('keep') === true;
const jsonOut = typeof opt('json') === 'string' ? path.resolve(opt('json')) : undefined;
const log = (m) => console.log(`release-rehearsal: ${m}`);

function run(cmd, argv, o = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: o.timeout ?? 600_000, cwd: o.cwd, env: { ...process.env, ...o.env }, maxBuffer: 64 << 20 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (o.check !== false && r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} (in ${o.cwd ?? process.cwd()}) failed with ${r.status ?? r.signal}:\n${out.slice(-3000)}`);
  return { ok: r.status === 0, out };
}

async function registryReachable() {
  try {
    const res = await fetch('https://registry.npmjs.org/-/ping', { signal: globalThis.AbortSignal.timeout(10_000) });
    return res.ok;
  } catch {
    return false;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function copyWorkspace(dest) {
  // tracked files plus the built dist/ folders (what `files` publishes), without node_modules or VCS data
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }).out.split('\0').filter(Boolean);
  const dists = fs.readdirSync(path.join(root, 'packages')).map((p) => path.join('packages', p, 'dist')).filter((d) => fs.existsSync(path.join(root, d)));
  for (const rel of files) {
    const src = path.join(root, rel);
    if (!fs.existsSync(src) || fs.statSync(src).isDirectory()) continue;
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.copyFileSync(src, path.join(dest, rel));
  }
  for (const d of dists) fs.cpSync(path.join(root, d), path.join(dest, d), { recursive: true });
}

function publishedPackages(dir) {
  return fs
    .readdirSync(path.join(dir, 'packages'))
    .map((p) => ({ dir: path.join(dir, 'packages', p), pkg: JSON.parse(fs.readFileSync(path.join(dir, 'packages', p, 'package.json'), 'utf8')) }))
    .filter((x) => !x.pkg.private);
}

/** The first ```js block after a "## Usage" heading of a README, or undefined. */
export function usageBlock(readme) {
  const at = readme.search(/^##\s+Usage\b/m);
  if (at < 0) return undefined;
  const m = /^```js\n([\s\S]*?)^```/m.exec(readme.slice(at));
  return m ? m[1] : undefined;
}

function subpaths(pkg) {
  return Object.keys(pkg.exports ?? { '.': null }).filter((k) => k !== './package.json' && !k.includes('*'));
}

function duBytes(dir) {
  let total = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

async function startVerdaccio(work, port) {
  const config = path.join(work, 'verdaccio.yaml');
  fs.writeFileSync(
    config,
    [
      `storage: ${path.join(work, 'storage')}`,
      'uplinks:',
      '  npmjs:',
      '    url: https://registry.npmjs.org/',
      '    timeout: 60s',
      'packages:',
      "  '@tagi/*':",
      '    access: $all',
      '    publish: $anonymous',
      "  '**':",
      '    access: $all',
      '    proxy: npmjs',
      'log: { type: stdout, format: pretty, level: error }',
      '',
    ].join('\n'),
  );
  const bin = path.join(here, 'node_modules', 'verdaccio', 'bin', 'verdaccio');
  const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) return { child, url };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new Error(`verdaccio did not answer on ${url} within 30 s:\n${output}`);
}

function consumerCheck(work, url, { pkg, dir }) {
  const name = pkg.name;
  const short = name.replace('@tagi/', '');
  const cdir = path.join(work, 'consumers', short);
  fs.mkdirSync(cdir, { recursive: true });
  fs.writeFileSync(path.join(cdir, 'package.json'), JSON.stringify({ name: `consumer-${short}`, version: '1.0.0', private: true }, null, 2)); // CommonJS: the npm init -y default
  fs.writeFileSync(path.join(cdir, '.npmrc'), `registry=${url}\n`);
  // npm_config_registry too: under `pnpm run` (the test command) pnpm exports npm_config_registry=<public registry>, and
  // an environment setting beats the .npmrc file, so npm would ask the public registry for unpublished @tagi packages (404).
  const env = { npm_config_registry: url, npm_config_userconfig: path.join(cdir, '.npmrc'), npm_config_cache: path.join(work, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const row = { package: name, version: pkg.version, install: false, installBytes: 0, installedPackages: 0, usage: 'absent', typesEsm: false, typesCjs: false, require: false, problems: [] };
  const t0 = performance.now();
  const inst = run('npm', ['install', `${name}@${pkg.version}`], { cwd: cdir, env, check: false, timeout: 900_000 });
  row.installSeconds = Math.round((performance.now() - t0) / 100) / 10;
  if (!inst.ok) {
    row.problems.push(`npm install failed: ${inst.out.trim().split('\n').slice(-5).join(' | ')}`);
    return row;
  }
  row.install = true;
  row.installBytes = duBytes(path.join(cdir, 'node_modules'));
  row.installedPackages = run('npm', ['ls', '--all', '--parseable'], { cwd: cdir, env, check: false }).out.trim().split('\n').length - 1; // minus the consumer itself

  // the README's usage block, run as an ES module with plain node
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  const block = usageBlock(readme);
  if (block === undefined) {
    row.problems.push('README.md has no ```js block after a "## Usage" heading');
  } else {
    fs.writeFileSync(path.join(cdir, 'usage.mjs'), block);
    const t1 = performance.now();
    const u = run(process.execPath, ['usage.mjs'], { cwd: cdir, env, check: false, timeout: 300_000 });
    row.usageSeconds = Math.round((performance.now() - t1) / 100) / 10;
    row.usage = u.ok ? 'ok' : 'failed';
    if (!u.ok) row.problems.push(`README usage block failed: ${u.out.trim().split('\n').slice(-6).join(' | ')}`);
  }

  // type-checking consumers: every subpath export imported by an ES module and by a CommonJS file
  const subs = subpaths(pkg).map((s) => (s === '.' ? name : `${name}/${s.slice(2)}`));
  const imports = subs.map((s, i) => `import * as m${i} from '${s}';`).join('\n');
  const uses = subs.map((_, i) => `Object.keys(m${i})`).join(', ');
  fs.writeFileSync(path.join(cdir, 'esm-consumer.mts'), `${imports}\nexport const names: string[][] = [${uses}];\n`);
  fs.writeFileSync(path.join(cdir, 'cjs-consumer.ts'), `${imports}\nexport const names: string[][] = [${uses}];\n`);
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const tsconfig = (file) => {
    const f = path.join(cdir, `tsconfig.${file}.json`);
    const compilerOptions = { noEmit: true, strict: true, skipLibCheck: true, target: 'es2022', module: 'node16', moduleResolution: 'node16', types: [] };
    fs.writeFileSync(f, JSON.stringify({ compilerOptions, files: [file] }, null, 2));
    return f;
  };
  const te = run(process.execPath, [tsc, '-p', tsconfig('esm-consumer.mts')], { cwd: cdir, check: false });
  row.typesEsm = te.ok;
  if (!te.ok) row.problems.push(`ESM TypeScript consumer: ${te.out.trim().split('\n').slice(0, 3).join(' | ')}`);
  const tc = run(process.execPath, [tsc, '-p', tsconfig('cjs-consumer.ts')], { cwd: cdir, check: false });
  row.typesCjs = tc.ok;
  if (!tc.ok) row.problems.push(`CommonJS TypeScript consumer: ${tc.out.trim().split('\n').slice(0, 3).join(' | ')}`);
  const rq = run(process.execPath, ['-e', subs.map((s) => `require(${JSON.stringify(s)});`).join('')], { cwd: cdir, check: false });
  row.require = rq.ok;
  if (!rq.ok) row.problems.push(`require(): ${rq.out.trim().split('\n').find((l) => /Error/.test(l)) ?? rq.out.slice(-300)}`);
  return row;
}

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;

async function main() {
  if (!(await registryReachable())) {
    log('skipped: https://registry.npmjs.org is not reachable (third-party dependencies are proxied from it)');
    return 0;
  }
  const missing = fs.readdirSync(path.join(root, 'packages')).filter((p) => !fs.existsSync(path.join(root, 'packages', p, 'dist')));
  if (missing.length > 0) throw new Error(`build first (pnpm build): no dist/ in ${missing.join(', ')}`);
  const started = performance.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-release-'));
  const copy = path.join(work, 'workspace');
  let verdaccio;
  try {
    log(`throwaway copy in ${copy}`);
    copyWorkspace(copy);
    run(process.execPath, [path.join(root, 'node_modules', '@changesets', 'cli', 'bin.js'), 'version'], { cwd: copy });
    const pnpm = ['-y', 'pnpm@10.34.9'];
    run('npx', [...pnpm, 'install', '--offline', '--frozen-lockfile', '--ignore-scripts'], { cwd: copy, env: { TAGI_SKIP_TFJS_NODE: '1' } });
    const port = await freePort();
    verdaccio = await startVerdaccio(work, port);
    log(`verdaccio at ${verdaccio.url}`);
    fs.writeFileSync(path.join(work, 'publish.npmrc'), `//127.0.0.1:${port}/:_authToken=rehearsal\n`);
    const pub = run('npx', [...pnpm, '-r', 'publish', '--registry', verdaccio.url, '--no-git-checks'], { cwd: copy, env: { npm_config_userconfig: path.join(work, 'publish.npmrc') } });
    const published = pub.out.split('\n').filter((l) => /^\+ @tagi\//.test(l)).map((l) => l.slice(2).trim());
    log(`published ${published.join(', ')}`);
    const pkgs = publishedPackages(copy).filter((p) => !only || only.has(p.pkg.name));
    const rows = [];
    for (const p of pkgs) {
      log(`${p.pkg.name}: fresh install and checks …`);
      rows.push(consumerCheck(work, verdaccio.url, p));
    }
    const lines = [
      '| package | version | install | installed size | packages | README usage | ESM types | CJS types | require() |',
      '|---|---|---|---:|---:|---|---|---|---|',
      ...rows.map((r) => `| ${r.package} | ${r.version} | ${r.install ? `ok (${r.installSeconds} s)` : 'FAILED'} | ${mb(r.installBytes)} | ${r.installedPackages} | ${r.usage}${r.usageSeconds !== undefined ? ` (${r.usageSeconds} s)` : ''} | ${r.typesEsm ? 'ok' : 'FAILED'} | ${r.typesCjs ? 'ok' : 'FAILED'} | ${r.require ? 'ok' : 'FAILED'} |`),
    ];
    console.log(`\n${lines.join('\n')}\n`);
    for (const r of rows) for (const pr of r.problems) console.log(`  ${r.package}: ${pr}`);
    if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify({ published, rows }, null, 2)}\n`);
    const failed = rows.filter((r) => r.problems.length > 0).length + (published.length < pkgs.length ? 1 : 0);
    const minutes = ((performance.now() - started) / 60_000).toFixed(1);
    log(failed === 0 ? `all ${rows.length} packages install and run alone (${minutes} min)` : `${failed} package(s) with problems (${minutes} min)`);
    return failed === 0 ? 0 : 1;
  } finally {
    verdaccio?.child.kill();
    if (keep) log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`release-rehearsal: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
