#!/usr/bin/env node
// Release rehearsal: the packages as users get them.
//   1. A throwaway copy of the workspace (the repo is never changed): `changeset version`, then `pnpm -r publish` to a
//      local Verdaccio started here (our @tagi/* packages live only there; everything else is proxied from npmjs).
//   2. For every published library (packages/*), in a fresh directory outside the workspace with only that registry
//      configured: `npm i <package>` alone (install size recorded), the README's usage block (the first ```js block
//      after the "## Usage" heading) run with plain `node` as an ES module, an ES-module TypeScript consumer and a
//      CommonJS TypeScript consumer (the `npm init -y` default) type-checked with `module: node16`, and `require()`.
//   3. The apps (apps/*: @tagi/trainer, @tagi/playground), each from the registry into an empty directory: the
//      published tarball (its size, the files the app needs at run time, no `workspace:` range left), `npm i`, then
//      `npx @tagi/trainer demo --preset=smoke` (timed; it must finish with its results table, and no TensorFlow log
//      line may appear in its output) and the playground started in the trainer's directory (it must find the run
//      under ./runs) answering `GET /` with its page and one `POST /api/generate` on that run (each timed).
// Prints tables (and `--json FILE` writes them). Exit 1 when any check fails; exit 0 with "skipped" when the npm
// registry cannot be reached (third-party dependencies come from it). Options: --only=lora,trainer  --keep  --json FILE
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
const only =
  typeof opt('only') === 'string'
    ? new Set(
        opt('only')
          .split(',')
          .map((s) => (s.startsWith('@tagi/') ? s : `@tagi/${s}`)),
      )
    : undefined;
const keep = opt('keep') === true;
const jsonOut = typeof opt('json') === 'string' ? path.resolve(opt('json')) : undefined;
const log = (m) => console.log(`release-rehearsal: ${m}`);

function run(cmd, argv, o = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: o.timeout ?? 600_000, cwd: o.cwd, env: { ...process.env, ...o.env }, maxBuffer: 64 << 20 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (o.check !== false && r.status !== 0)
    throw new Error(`${cmd} ${argv.join(' ')} (in ${o.cwd ?? process.cwd()}) failed with ${r.status ?? r.signal}:\n${out.slice(-3000)}`);
  return { ok: r.status === 0, out, stdout: r.stdout ?? '' };
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

const PUBLISHED_DIRS = ['packages', 'apps'];

function copyWorkspace(dest) {
  // tracked files plus the built dist/ folders (what `files` publishes), without node_modules or VCS data
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }).out.split('\0').filter(Boolean);
  const dists = PUBLISHED_DIRS.flatMap((top) => fs.readdirSync(path.join(root, top)).map((p) => path.join(top, p, 'dist'))).filter((d) =>
    fs.existsSync(path.join(root, d)),
  );
  for (const rel of files) {
    const src = path.join(root, rel);
    if (!fs.existsSync(src) || fs.statSync(src).isDirectory()) continue;
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.copyFileSync(src, path.join(dest, rel));
  }
  for (const d of dists) fs.cpSync(path.join(root, d), path.join(dest, d), { recursive: true });
}

/** Every published package of the workspace: libraries (packages/*) and apps (apps/*). */
function publishedPackages(dir) {
  return PUBLISHED_DIRS.flatMap((top) =>
    fs
      .readdirSync(path.join(dir, top))
      .map((p) => ({ dir: path.join(dir, top, p), app: top === 'apps', pkg: JSON.parse(fs.readFileSync(path.join(dir, top, p, 'package.json'), 'utf8')) }))
      .filter((x) => !x.pkg.private),
  );
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
  const env = {
    npm_config_registry: url,
    npm_config_userconfig: path.join(cdir, '.npmrc'),
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  const row = {
    package: name,
    version: pkg.version,
    install: false,
    installBytes: 0,
    installedPackages: 0,
    usage: 'absent',
    typesEsm: false,
    typesCjs: false,
    require: false,
    problems: [],
  };
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
  if (!rq.ok)
    row.problems.push(
      `require(): ${
        rq.out
          .trim()
          .split('\n')
          .find((l) => /Error/.test(l)) ?? rq.out.slice(-300)
      }`,
    );
  return row;
}

const mb = (b) => `${(b / 1e6).toFixed(1)} MB`;
const seconds = (t0) => Math.round((performance.now() - t0) / 100) / 10;

/** An empty consumer directory with only the local registry configured, and the environment its npm runs in. */
function consumerDir(work, url, short) {
  const cdir = path.join(work, 'consumers', short);
  fs.mkdirSync(cdir, { recursive: true });
  fs.writeFileSync(path.join(cdir, 'package.json'), JSON.stringify({ name: `consumer-${short}`, version: '1.0.0', private: true }, null, 2));
  fs.writeFileSync(path.join(cdir, '.npmrc'), `registry=${url}\n`);
  // as in consumerCheck: npm_config_registry beats the pnpm-exported public registry
  const env = {
    npm_config_registry: url,
    npm_config_userconfig: path.join(cdir, '.npmrc'),
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  return { cdir, env };
}

/** The environment of a program a user runs: none of this process's TensorFlow or relaunch settings. */
function userEnv(env) {
  const e = { ...process.env, ...env };
  for (const k of ['TF_CPP_MIN_LOG_LEVEL', 'TAGI_QUIET_CHILD', 'NODE_OPTIONS']) delete e[k];
  return e;
}

/**
 * The tarball as the registry serves it (`npm pack NAME@VERSION` downloads it): its size, that it holds `needs`,
 * and that its package.json names every @tagi dependency by the version published with it (no `workspace:` left).
 */
function tarballCheck(work, env, pkg, needs, versions, problems) {
  const tdir = path.join(work, 'tarballs', pkg.name.replace('@tagi/', ''));
  fs.mkdirSync(tdir, { recursive: true });
  const r = run('npm', ['pack', `${pkg.name}@${pkg.version}`, '--json'], { cwd: tdir, env, check: false });
  if (!r.ok) {
    problems.push(`npm pack ${pkg.name}@${pkg.version} failed: ${r.out.trim().split('\n').slice(-3).join(' | ')}`);
    return {};
  }
  const info = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')))[0]; // stdout alone: npm may print notices on stderr
  const files = new Set(info.files.map((f) => f.path));
  for (const n of needs) if (!files.has(n)) problems.push(`the tarball lacks ${n}`);
  const manifest = JSON.parse(run('tar', ['-xzOf', path.join(tdir, info.filename), 'package/package.json']).stdout);
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:') || String(range).startsWith('catalog:'))
        problems.push(`${field}.${dep} is still '${range}' in the published package.json`);
      else if (versions.has(dep) && range !== versions.get(dep))
        problems.push(`${field}.${dep} is '${range}', not the version published with it (${versions.get(dep)})`);
    }
  }
  for (const [bin, target] of Object.entries(manifest.bin ?? {}))
    if (!files.has(target.replace(/^\.\//, ''))) problems.push(`bin ${bin} → ${target} is not in the tarball`);
  return { tarballBytes: info.size, unpackedBytes: info.unpackedSize, fileCount: info.entryCount ?? info.files.length };
}

/** TensorFlow's own log lines in a command's output (the filter of @tagi/tensor-core/native-logs, as built). */
async function tensorflowLines(text) {
  const { isTensorFlowInfoLine } = await import(path.join(root, 'packages', 'tensor-core', 'dist', 'native-logs.js'));
  return text.split('\n').filter((l) => isTensorFlowInfoLine(l) || /absl::InitializeLog|oneDNN custom operations|cpu_feature_guard|dso_loader/.test(l));
}

/**
 * An app's published tarball checked (`files` must be in it), then installed from the registry into an empty
 * consumer directory `name`: the report row (install time and size, or why it failed) and that directory.
 */
function installApp(work, url, pkg, name, files, versions) {
  const row = { package: pkg.name, version: pkg.version, install: false, problems: [] };
  const { cdir, env } = consumerDir(work, url, name);
  Object.assign(row, tarballCheck(work, env, pkg, files, versions, row.problems));
  const t0 = performance.now();
  const inst = run('npm', ['install', `${pkg.name}@${pkg.version}`], { cwd: cdir, env, check: false, timeout: 900_000 });
  row.installSeconds = seconds(t0);
  if (!inst.ok) {
    row.problems.push(`npm install failed: ${inst.out.trim().split('\n').slice(-5).join(' | ')}`);
    return { row, cdir, env };
  }
  row.install = true;
  row.installBytes = duBytes(path.join(cdir, 'node_modules'));
  return { row, cdir, env };
}

/** @tagi/trainer from the registry into an empty directory, then `npx @tagi/trainer demo --preset=smoke` there. */
async function trainerCheck(work, url, { pkg }, versions) {
  const { row, cdir, env } = installApp(work, url, pkg, 'trainer', ['package.json', 'README.md', 'LICENSE', 'dist/cli.js', 'dist/index.js'], versions);
  if (!row.install) return row;
  row.tfjsNode = fs.existsSync(path.join(cdir, 'node_modules', '@tensorflow', 'tfjs-node', 'lib', 'napi-v8', 'tfjs_binding.node'))
    ? 'installed'
    : 'not installed';
  const t0 = performance.now();
  const demo = run('npx', [pkg.name, 'demo', '--preset=smoke'], { cwd: cdir, env: userEnv(env), check: false, timeout: 1_800_000 });
  row.demoSeconds = seconds(t0);
  row.backendLine = demo.out.split('\n').find((l) => l.startsWith('backend: ')) ?? '';
  row.demo = demo.ok && /\| TAGI \|/.test(demo.out);
  if (!row.demo)
    row.problems.push(
      `npx ${pkg.name} demo --preset=smoke ${demo.ok ? 'printed no results table' : 'failed'}: ${demo.out.trim().split('\n').slice(-6).join(' | ')}`,
    );
  if (!demo.out.startsWith('backend: ')) row.problems.push(`the demo's first line is not ours: ${JSON.stringify(demo.out.split('\n')[0])}`);
  row.tensorflowLogLines = (await tensorflowLines(demo.out)).length;
  if (row.tensorflowLogLines > 0)
    row.problems.push(`${row.tensorflowLogLines} TensorFlow log line(s) in the demo's output, e.g. ${(await tensorflowLines(demo.out))[0]}`);
  const runs = path.join(cdir, 'runs');
  row.runDir = fs.existsSync(runs)
    ? fs
        .readdirSync(runs)
        .map((d) => path.join(runs, d))
        .find((d) => fs.existsSync(path.join(d, 'results.json')))
    : undefined;
  if (row.demo && row.runDir === undefined) row.problems.push(`no run with results.json under ${runs}`);
  row.dir = cdir;
  return row;
}

/**
 * @tagi/playground from the registry into an empty directory, started (its bin) where the trainer's demo ran, so
 * its default root ./runs holds that run: the URL printed, `GET /` the page, one `POST /api/generate` on the run.
 */
async function playgroundCheck(work, url, { pkg }, versions, trainer) {
  const files = [
    'package.json',
    'README.md',
    'LICENSE',
    'NOTICE',
    'dist/server.js',
    'dist/web/tagi-browser.js',
    'public/index.html',
    'dist/page/app.js',
    'public/style.css',
    'public/in-page.html',
    'dist/page/in-page.js',
  ];
  const { row, cdir, env } = installApp(work, url, pkg, 'playground', files, versions);
  if (!row.install) return row;
  if (trainer?.runDir === undefined) {
    row.problems.push(`not started: it needs the run of ${trainer ? "@tagi/trainer's demo, which failed" : '@tagi/trainer (add trainer to --only)'}`);
    return row;
  }
  let t0 = performance.now();
  const child = spawn(path.join(cdir, 'node_modules', '.bin', 'tagi-playground'), ['--port', '0'], {
    cwd: trainer.dir,
    env: userEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  try {
    const started = await Promise.race([
      new Promise((resolve) => {
        const check = () => /newest run: .*\n/.test(out) && resolve(/TAGI playground: (http:\/\/\S+)/.exec(out)?.[1]);
        child.stdout.on('data', check);
        check();
      }),
      exited.then(() => undefined),
      new Promise((resolve) => setTimeout(() => resolve(undefined), 120_000)),
    ]);
    row.startSeconds = seconds(t0);
    if (started === undefined) {
      row.problems.push(`it printed no URL within 120 s: ${`${out}${err}`.trim().split('\n').slice(-5).join(' | ')}`);
      return row;
    }
    if (!out.includes(`newest run: ${trainer.runDir}`)) row.problems.push(`it did not find the demo's run under ./runs: ${out.trim().split('\n').join(' | ')}`);
    t0 = performance.now();
    const page = await fetch(started);
    const html = await page.text();
    row.getMs = Math.round(performance.now() - t0);
    row.getStatus = page.status;
    if (page.status !== 200 || !/<html/i.test(html)) row.problems.push(`GET / answered ${page.status} without the page`);
    t0 = performance.now();
    const gen = await fetch(new URL('api/generate', started), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dir: trainer.runDir, instruction: 'Return the last word of the input.' }),
    });
    const body = await gen.json().catch(() => ({}));
    row.generateSeconds = seconds(t0);
    row.generateStatus = gen.status;
    if (gen.status !== 200 || typeof body.id !== 'string' || !Array.isArray(body.instructionIds))
      row.problems.push(`POST /api/generate answered ${gen.status}: ${JSON.stringify(body).slice(0, 300)}`);
    row.backend = /"backend":"(\w+)"/.exec(
      JSON.stringify(
        await (
          await fetch(new URL('api/open', started), {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ dir: trainer.runDir }),
          })
        )
          .json()
          .catch(() => ({})),
      ),
    )?.[1];
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const end = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(undefined), 30_000))]);
    if (end === undefined) {
      child.kill('SIGKILL');
      row.problems.push('it did not stop within 30 s of SIGTERM');
    }
  }
  row.tensorflowLogLines = (await tensorflowLines(`${out}${err}`)).length;
  if (row.tensorflowLogLines > 0) row.problems.push(`${row.tensorflowLogLines} TensorFlow log line(s) in its output`);
  if (/internal error/.test(err)) row.problems.push(`internal error: ${err.trim().split('\n').slice(0, 3).join(' | ')}`);
  return row;
}

async function main() {
  if (!(await registryReachable())) {
    log('skipped: https://registry.npmjs.org is not reachable (third-party dependencies are proxied from it)');
    return 0;
  }
  const missing = PUBLISHED_DIRS.flatMap((top) => fs.readdirSync(path.join(root, top)).map((p) => path.join(top, p))).filter(
    (d) => fs.existsSync(path.join(root, d, 'package.json')) && !fs.existsSync(path.join(root, d, 'dist')),
  );
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
    const pub = run('npx', [...pnpm, '-r', 'publish', '--registry', verdaccio.url, '--no-git-checks'], {
      cwd: copy,
      env: { npm_config_userconfig: path.join(work, 'publish.npmrc') },
    });
    const published = pub.out
      .split('\n')
      .filter((l) => /^\+ @tagi\//.test(l))
      .map((l) => l.slice(2).trim());
    log(`published ${published.join(', ')}`);
    const all = publishedPackages(copy);
    const versions = new Map(all.map((p) => [p.pkg.name, p.pkg.version]));
    const pkgs = all.filter((p) => !only || only.has(p.pkg.name));
    const rows = [];
    for (const p of pkgs.filter((x) => !x.app)) {
      log(`${p.pkg.name}: fresh install and checks …`);
      rows.push(consumerCheck(work, verdaccio.url, p));
    }
    const appRows = [];
    const trainerPkg = pkgs.find((p) => p.pkg.name === '@tagi/trainer');
    const playgroundPkg = pkgs.find((p) => p.pkg.name === '@tagi/playground');
    let trainer;
    if (trainerPkg) {
      log(`${trainerPkg.pkg.name}: tarball, install into an empty directory, npx ${trainerPkg.pkg.name} demo --preset=smoke …`);
      trainer = await trainerCheck(work, verdaccio.url, trainerPkg, versions);
      appRows.push(trainer);
    }
    if (playgroundPkg) {
      log(`${playgroundPkg.pkg.name}: tarball, install into an empty directory, serve the demo's run: GET /, POST /api/generate …`);
      appRows.push(await playgroundCheck(work, verdaccio.url, playgroundPkg, versions, trainer));
    }
    for (const p of pkgs.filter((x) => x.app && x !== trainerPkg && x !== playgroundPkg))
      appRows.push({ package: p.pkg.name, version: p.pkg.version, problems: ['an app the rehearsal has no run check for'] });
    const lines = [
      '| package | version | install | installed size | packages | README usage | ESM types | CJS types | require() |',
      '|---|---|---|---:|---:|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.package} | ${r.version} | ${r.install ? `ok (${r.installSeconds} s)` : 'FAILED'} | ${mb(r.installBytes)} | ${r.installedPackages} | ${r.usage}${r.usageSeconds !== undefined ? ` (${r.usageSeconds} s)` : ''} | ${r.typesEsm ? 'ok' : 'FAILED'} | ${r.typesCjs ? 'ok' : 'FAILED'} | ${r.require ? 'ok' : 'FAILED'} |`,
      ),
    ];
    if (rows.length > 0) console.log(`\n${lines.join('\n')}\n`);
    const kb = (b) => (b === undefined ? '–' : `${(b / 1e3).toFixed(0)} kB`);
    const appRun = (r) =>
      r.package === '@tagi/trainer'
        ? `\`npx @tagi/trainer demo --preset=smoke\` ${r.demo ? 'ok' : 'FAILED'}${r.demoSeconds !== undefined ? ` (${r.demoSeconds} s)` : ''}; tfjs-node ${r.tfjsNode ?? '–'}; \`${r.backendLine ?? ''}\`; TensorFlow log lines: ${r.tensorflowLogLines ?? '–'}`
        : r.package === '@tagi/playground'
          ? `start ${r.startSeconds ?? '–'} s; \`GET /\` ${r.getStatus ?? '–'} (${r.getMs ?? '–'} ms); \`POST /api/generate\` ${r.generateStatus ?? '–'} (${r.generateSeconds ?? '–'} s, backend ${r.backend ?? '–'}); TensorFlow log lines: ${r.tensorflowLogLines ?? '–'}`
          : '–';
    const appLines = [
      '| app | version | tarball | unpacked | files | install | installed size | run from the registry, in an empty directory |',
      '|---|---|---:|---:|---:|---|---:|---|',
      ...appRows.map(
        (r) =>
          `| ${r.package} | ${r.version} | ${kb(r.tarballBytes)} | ${kb(r.unpackedBytes)} | ${r.fileCount ?? '–'} | ${r.install ? `ok (${r.installSeconds} s)` : 'FAILED'} | ${r.installBytes !== undefined ? mb(r.installBytes) : '–'} | ${appRun(r)} |`,
      ),
    ];
    if (appRows.length > 0) console.log(`${appLines.join('\n')}\n`);
    for (const r of [...rows, ...appRows]) for (const pr of r.problems) console.log(`  ${r.package}: ${pr}`);
    if (jsonOut) fs.writeFileSync(jsonOut, `${JSON.stringify({ published, rows, apps: appRows }, null, 2)}\n`);
    const failed = [...rows, ...appRows].filter((r) => r.problems.length > 0).length + (published.length < pkgs.length ? 1 : 0);
    const minutes = ((performance.now() - started) / 60_000).toFixed(1);
    log(
      failed === 0
        ? `all ${rows.length} packages install and run alone, and ${appRows.length} apps run from the registry (${minutes} min)`
        : `${failed} package(s) with problems (${minutes} min)`,
    );
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
