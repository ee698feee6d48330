// Does Python's huggingface_hub share the HF cache with resolvePretrained, both ways? Not part of the test
// suite (the product and its tests never need Python): a developer check against the reference client.
// A local fixture Hub (src/hub-fixture-server.ts) serves a tiny T5 repo; then
//   1. we download into cache A; Python, offline (HF_HUB_OFFLINE=1), must find every file in A;
//   2. Python downloads into cache B through the fixture (HF_ENDPOINT); we, offline, must resolve B;
//   3. A and B must be laid out identically (refs, blob names, snapshot links, file bytes).
// Run: npx tsx scripts/check-hf-cache-python.ts [--python /work/venv/bin/python]
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHubFixture } from '../src/hub-fixture-server.js';
import { resolvePretrained } from '../src/node.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf('--python');
const python =
  i >= 0 ? (process.argv[i + 1] as string) : (process.env['TAGI_PYTHON'] ?? (fs.existsSync('/work/venv/bin/python') ? '/work/venv/bin/python' : 'python3'));
const tiny = path.join(here, '..', '__fixtures__', 't5', 'tiny-gated-untied');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 't5-hf-cache-'));
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const FILES = ['config.json', 'generation_config.json', 'model.safetensors'];

/** Every entry under a cache folder: links with their targets, files with their sizes. */
function layout(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const p = path.join(d, e.name);
      if (r.startsWith('.locks') || r.startsWith('.no_exist') || e.name === 'CACHEDIR.TAG') continue; // bookkeeping each side keeps its own way
      if (e.isSymbolicLink()) out.push(`${r} -> ${fs.readlinkSync(p)}`);
      else if (e.isDirectory()) walk(p, r);
      else out.push(`${r} (${fs.statSync(p).size} bytes${r.startsWith('models--') && r.includes('/refs/') ? `: ${fs.readFileSync(p, 'utf8')}` : ''})`);
    }
  };
  walk(root, '');
  return out;
}

const server = await startHubFixture({ 'tagi/tiny-t5': { dir: tiny, commit: COMMIT, lfs: (f) => f.endsWith('.safetensors') } });
let ok = true;
try {
  const cacheA = path.join(tmp, 'A');
  const cacheB = path.join(tmp, 'B');
  await resolvePretrained('tagi/tiny-t5', { cacheDir: cacheA, endpoint: server.url, files: { required: FILES } });
  // asynchronously: the fixture Hub answers from this very process
  const py = async (cache: string, offline: boolean) =>
    (
      await promisify(execFile)(
        python,
        [
          '-c',
          `import sys\nfrom huggingface_hub import hf_hub_download\nfor f in sys.argv[1:]: print(hf_hub_download('tagi/tiny-t5', f, cache_dir=${JSON.stringify(cache)}))`,
          ...FILES,
        ],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            HF_ENDPOINT: server.url,
            HF_HUB_OFFLINE: offline ? '1' : '0',
            HF_HUB_DISABLE_TELEMETRY: '1',
            HF_HUB_DISABLE_PROGRESS_BARS: '1',
          },
        },
      )
    ).stdout
      .trim()
      .split('\n');
  const before = server.requests.length;
  const found = await py(cacheA, true);
  const want = FILES.map((f) => path.join(cacheA, 'models--tagi--tiny-t5', 'snapshots', COMMIT, f));
  console.log(
    `1. Python offline on the cache we filled: ${JSON.stringify(found) === JSON.stringify(want) ? 'found every file' : `MISMATCH ${found.join(', ')}`} (${server.requests.length - before} requests)`,
  );
  ok &&= JSON.stringify(found) === JSON.stringify(want) && server.requests.length === before;

  const pyStart = server.requests.length;
  await py(cacheB, false);
  console.log(`   Python online asked the fixture Hub: ${[...new Set(server.requests.slice(pyStart))].join('; ')}`);
  const mark = server.requests.length;
  const ours = await resolvePretrained('tagi/tiny-t5', { cacheDir: cacheB, offline: true, files: { required: FILES } });
  console.log(`2. we, offline, on the cache Python filled: ${ours} (${server.requests.length - mark} requests)`);
  ok &&= ours === path.join(cacheB, 'models--tagi--tiny-t5', 'snapshots', COMMIT) && server.requests.length === mark;

  const a = layout(cacheA);
  const b = layout(cacheB);
  const same = JSON.stringify(a) === JSON.stringify(b);
  console.log(`3. layouts ${same ? 'identical' : 'DIFFER'}:\n   ${a.join('\n   ')}${same ? '' : `\n   Python's:\n   ${b.join('\n   ')}`}`);
  ok &&= same;
} finally {
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(ok ? 'OK' : 'FAILED');
process.exit(ok ? 0 : 1);
