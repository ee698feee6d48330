// Hub ids through @huggingface/hub against a local server that answers like the Hub (src/hub-fixture-server.ts,
// started here; no network), and the HF cache in huggingface_hub's layout, filled online and read offline.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@tagi/tensor-core/testing';
import { startHubFixture, type HubFixture } from './hub-fixture-server.js';
import {
  GatedRepoError,
  HubError,
  OfflineCacheMissError,
  PEFT_ADAPTER_FILES,
  RepoNotFoundError,
  T5ForConditionalGeneration,
  expandHome,
  hfHubCache,
  parseHubId,
  repoFolderName,
  resolvePretrained,
  type DownloadProgress,
} from './node.js';

const fixtures = path.resolve(import.meta.dirname, '..', '__fixtures__', 't5');
const tiny = path.join(fixtures, 'tiny-gated-untied');
const COMMIT = 'c0ffee00112233445566778899aabbccddeeff00';
const V1 = '1111111111111111111111111111111111111111';
const TOKEN = 'hf_fixture_token';

let tmp: string;
let server: HubFixture;
const env = { ...process.env };
const sha256 = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const gitOid = (f: string) => {
  const b = fs.readFileSync(f);
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
};

function repoDir(name: string, files: Record<string, string | Buffer>): string {
  const d = path.join(tmp, 'repos', name);
  for (const [f, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), content);
  }
  return d;
}

beforeAll(async () => {
  await useBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 't5-hub-'));
  const read = (f: string) => fs.readFileSync(path.join(tiny, f));
  const model = {
    'config.json': read('config.json'),
    'model.safetensors': read('model.safetensors'),
    'generation_config.json': read('generation_config.json'),
  };
  // a sharded copy of the same weights, written by our own savePretrained
  const sharded = path.join(tmp, 'repos', 'sharded');
  const m = await T5ForConditionalGeneration.fromPretrained(tiny);
  await m.savePretrained(sharded, { maxShardBytes: 100_000 });
  m.dispose();
  // an older commit of the v1 branch: a different file set (no generation config)
  const v1Dir = repoDir('tiny-v1', { 'config.json': read('config.json'), 'model.safetensors': read('model.safetensors') });
  server = await startHubFixture(
    {
      'tagi/tiny-t5': {
        dir: repoDir('tiny', { ...model, 'README.md': '# tiny\n', 'pytorch_model.bin': Buffer.alloc(64) }),
        commit: COMMIT,
        refs: { 'refs/pr/1': COMMIT },
      },
      'tagi/tiny-t5-v1': { dir: v1Dir, commit: V1, refs: { v1: V1 } },
      'tagi/sharded-t5': { dir: sharded, commit: COMMIT },
      'tagi/gated-t5': { dir: repoDir('gated', model), commit: COMMIT, gated: true },
      'tagi/bin-only': { dir: repoDir('bin', { 'config.json': read('config.json'), 'pytorch_model.bin': Buffer.alloc(64) }), commit: COMMIT },
      'tagi/adapter': {
        dir: repoDir('adapter', {
          'adapter_config.json': read('lora/adapter_config.json'),
          'adapter_model.safetensors': read('lora/adapter_model.safetensors'),
        }),
        commit: COMMIT,
      },
    },
    { token: TOKEN },
  );
});
afterAll(async () => {
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  Object.assign(process.env, env);
});

let n = 0;
const freshCache = () => path.join(tmp, `cache-${n++}`);

describe('ids and paths', () => {
  it.each([
    ['google/t5-small-lm-adapt', { repo: 'google/t5-small-lm-adapt', revision: 'main' }],
    ['gpt2', { repo: 'gpt2', revision: 'main' }],
    ['org/name@v1.0', { repo: 'org/name', revision: 'v1.0' }],
    ['org/name@refs/pr/1', { repo: 'org/name', revision: 'refs/pr/1' }],
    [`org/name@${COMMIT}`, { repo: 'org/name', revision: COMMIT }],
  ])('%s is a Hub id', (id, want) => {
    expect(parseHubId(id)).toEqual(want);
  });

  it.each(['/abs/dir', './rel', '~/models/t5', 'a/b/c', 'org--x/y', 'org/na..me', '', 'org/name@', '-org/name'])('%j is not a Hub id', (id) => {
    expect(parseHubId(id)).toBeUndefined();
  });

  it('~ expands to the home directory; models--org--name', () => {
    expect(expandHome('~')).toBe(os.homedir());
    expect(expandHome('~/models/t5')).toBe(path.join(os.homedir(), 'models', 't5'));
    expect(expandHome('/x/~/y')).toBe('/x/~/y');
    expect(repoFolderName('google/t5-small-lm-adapt')).toBe('models--google--t5-small-lm-adapt');
  });

  it('a directory given with ~ loads (HOME pointed at a temp dir)', async () => {
    process.env['HOME'] = tmp;
    fs.cpSync(tiny, path.join(tmp, 'models', 'tiny'), { recursive: true });
    expect(await resolvePretrained('~/models/tiny')).toBe(path.join(tmp, 'models', 'tiny'));
    const m = await T5ForConditionalGeneration.fromPretrained('~/models/tiny');
    expect(m.config.dModel).toBe(48);
    m.dispose();
  });

  it('something neither a directory nor an id is a clear error', async () => {
    await expect(resolvePretrained('/no/such/dir')).rejects.toMatchObject({
      code: 'invalid-id',
      message: expect.stringMatching(/neither an existing directory nor a Hub id/),
    });
  });
});

describe('online: downloads through @huggingface/hub into the HF cache', () => {
  it('fills models--org--name/{blobs,refs,snapshots} as huggingface_hub does, only the files a T5 needs', async () => {
    const cacheDir = freshCache();
    const progress: DownloadProgress[] = [];
    const before = server.requests.length;
    const dir = await resolvePretrained('tagi/tiny-t5', { cacheDir, endpoint: server.url, onProgress: (p) => progress.push(p) });
    const folder = path.join(cacheDir, 'models--tagi--tiny-t5');
    expect(dir).toBe(path.join(folder, 'snapshots', COMMIT));
    expect(fs.readFileSync(path.join(folder, 'refs', 'main'), 'utf8')).toBe(COMMIT); // bare sha, no newline
    // blobs named by etag: sha256 for LFS (safetensors), the git blob id otherwise; snapshot entries are relative links
    const src = path.join(tmp, 'repos', 'tiny');
    const want = {
      'model.safetensors': sha256(path.join(src, 'model.safetensors')),
      'config.json': gitOid(path.join(src, 'config.json')),
      'generation_config.json': gitOid(path.join(src, 'generation_config.json')),
    };
    expect(fs.readdirSync(path.join(folder, 'blobs')).sort()).toEqual(Object.values(want).sort());
    expect(fs.readdirSync(dir).sort()).toEqual(Object.keys(want).sort());
    for (const [f, etag] of Object.entries(want)) {
      expect(fs.readlinkSync(path.join(dir, f))).toBe(path.join('..', '..', 'blobs', etag));
      expect(fs.readFileSync(path.join(dir, f))).toEqual(fs.readFileSync(path.join(src, f)));
    }
    // what the client asked for (observed): the commit, the files' etags, each wanted file once; nothing else
    const asked = server.requests.slice(before);
    expect(asked[0]).toBe('GET /api/models/tagi/tiny-t5/revision/main');
    expect(asked.filter((r) => r.includes('paths-info'))).toEqual([`POST /api/models/tagi/tiny-t5/paths-info/${COMMIT}`]);
    const downloads = asked.filter((r) => r.startsWith('GET /tagi/tiny-t5/resolve/'));
    expect(new Set(downloads)).toEqual(new Set(Object.keys(want).map((f) => `GET /tagi/tiny-t5/resolve/${COMMIT}/${f}`)));
    expect(asked.some((r) => r.includes('pytorch_model.bin') && r.includes('resolve'))).toBe(false);
    // progress ends at the full size of every file
    for (const f of Object.keys(want)) {
      const last = progress.filter((p) => p.file === f).pop()!;
      expect(last.loaded).toBe(fs.statSync(path.join(src, f)).size);
      expect(last.total).toBe(last.loaded);
    }
  });

  it('fromPretrained(id) equals loading the directory; a second resolve downloads nothing', async () => {
    const cacheDir = freshCache();
    const byId = await T5ForConditionalGeneration.fromPretrained('tagi/tiny-t5', { cacheDir, endpoint: server.url });
    const byDir = await T5ForConditionalGeneration.fromPretrained(tiny);
    const a = byId.stateDict();
    for (const [k, v] of byDir.stateDict()) expect(Array.from(a.get(k)!.dataSync()), k).toEqual(Array.from(v.dataSync()));
    byId.dispose();
    byDir.dispose();
    const before = server.requests.length;
    await resolvePretrained('tagi/tiny-t5', { cacheDir, endpoint: server.url });
    // files known absent at this commit (optional tokenizer files) are remembered in .no_exist, as huggingface_hub does
    expect(server.requests.slice(before)).toEqual(['GET /api/models/tagi/tiny-t5/revision/main']);
    expect(fs.existsSync(path.join(cacheDir, 'models--tagi--tiny-t5', '.no_exist', COMMIT, 'tokenizer.json'))).toBe(true);
  });

  it('HF_ENDPOINT, HF_HUB_CACHE and HF_HOME (with ~) from the environment', async () => {
    process.env['HF_ENDPOINT'] = `${server.url}/`;
    process.env['HF_HUB_CACHE'] = path.join(tmp, 'env-cache');
    const dir = await resolvePretrained('tagi/tiny-t5');
    expect(dir).toBe(path.join(tmp, 'env-cache', 'models--tagi--tiny-t5', 'snapshots', COMMIT));
    delete process.env['HF_HUB_CACHE'];
    process.env['HOME'] = tmp;
    process.env['HF_HOME'] = '~/hf-home';
    expect(hfHubCache()).toBe(path.join(tmp, 'hf-home', 'hub'));
    expect(await resolvePretrained('tagi/tiny-t5')).toBe(path.join(tmp, 'hf-home', 'hub', 'models--tagi--tiny-t5', 'snapshots', COMMIT));
  });

  it('org/name@revision: a branch, a PR ref, a commit sha; refs/<revision> records the commit', async () => {
    const cacheDir = freshCache();
    const v1 = await resolvePretrained('tagi/tiny-t5-v1@v1', { cacheDir, endpoint: server.url });
    expect(v1).toBe(path.join(cacheDir, 'models--tagi--tiny-t5-v1', 'snapshots', V1));
    expect(fs.readFileSync(path.join(cacheDir, 'models--tagi--tiny-t5-v1', 'refs', 'v1'), 'utf8')).toBe(V1);
    expect(fs.readdirSync(v1).sort()).toEqual(['config.json', 'model.safetensors']); // optional files absent there
    const pr = await resolvePretrained('tagi/tiny-t5', { cacheDir, endpoint: server.url, revision: 'refs/pr/1' });
    expect(fs.readFileSync(path.join(cacheDir, 'models--tagi--tiny-t5', 'refs', 'refs', 'pr', '1'), 'utf8')).toBe(COMMIT);
    expect(await resolvePretrained(`tagi/tiny-t5@${COMMIT}`, { cacheDir, endpoint: server.url })).toBe(pr);
    await expect(resolvePretrained('tagi/tiny-t5@nope', { cacheDir, endpoint: server.url })).rejects.toMatchObject({
      code: 'revision-not-found',
      revision: 'nope',
    });
  });

  it('a sharded checkpoint brings its index and every shard', async () => {
    const cacheDir = freshCache();
    const dir = await resolvePretrained('tagi/sharded-t5', { cacheDir, endpoint: server.url });
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    const shards = [...new Set(Object.values(index.weight_map))];
    expect(shards.length).toBeGreaterThan(1);
    for (const s of shards) expect(fs.existsSync(path.join(dir, s))).toBe(true);
    const m = await T5ForConditionalGeneration.fromPretrained('tagi/sharded-t5', { cacheDir, endpoint: server.url });
    expect(m.lm_head).toBeDefined();
    m.dispose();
  });

  it('a peft adapter by id', async () => {
    const dir = await resolvePretrained('tagi/adapter', { cacheDir: freshCache(), endpoint: server.url, files: PEFT_ADAPTER_FILES });
    expect(fs.readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('unknown ids, gated repos (with and without HF_TOKEN) and weights we cannot read are typed errors', async () => {
    const o = { cacheDir: freshCache(), endpoint: server.url };
    const unknown = await resolvePretrained('tagi/no-such-model', o).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RepoNotFoundError);
    expect(unknown).toMatchObject({ code: 'repo-not-found', repo: 'tagi/no-such-model', status: 401 });
    const gated = await resolvePretrained('tagi/gated-t5', o).catch((e: unknown) => e);
    expect(gated).toBeInstanceOf(GatedRepoError);
    expect(String(gated)).toMatch(/gated repo: accept its conditions.*HF_TOKEN/);
    process.env['HF_TOKEN'] = TOKEN;
    expect(await resolvePretrained('tagi/gated-t5', o)).toMatch(/models--tagi--gated-t5/);
    process.env['HF_TOKEN'] = 'not-a-token';
    await expect(resolvePretrained('tagi/gated-t5', o)).rejects.toThrow(/must start with 'hf_'/);
    delete process.env['HF_TOKEN'];
    const down = await resolvePretrained('tagi/tiny-t5', { cacheDir: o.cacheDir, endpoint: 'http://127.0.0.1:9' }).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'hub-error', message: expect.stringMatching(/could not be reached; HF_HUB_OFFLINE=1/) });
    const bin = await resolvePretrained('tagi/bin-only', o).catch((e: unknown) => e);
    expect(bin).toBeInstanceOf(HubError);
    expect(bin).toMatchObject({ code: 'file-not-found', file: 'model.safetensors or model.safetensors.index.json' });
    expect(String(bin)).toMatch(/it has pytorch_model\.bin, which this loader does not read/);
  });
});

describe('offline (HF_HUB_OFFLINE=1): the cache alone', () => {
  /** A cache laid out by hand exactly as huggingface_hub writes it (blobs by etag, refs/main, relative links). */
  function prefilledCache(): string {
    const cacheDir = freshCache();
    const folder = path.join(cacheDir, repoFolderName('google/t5-small-lm-adapt'));
    fs.mkdirSync(path.join(folder, 'refs'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'refs', 'main'), COMMIT);
    fs.mkdirSync(path.join(folder, 'blobs'));
    fs.mkdirSync(path.join(folder, 'snapshots', COMMIT), { recursive: true });
    for (const f of ['config.json', 'model.safetensors', 'generation_config.json']) {
      const etag = f.endsWith('.safetensors') ? sha256(path.join(tiny, f)) : gitOid(path.join(tiny, f));
      fs.copyFileSync(path.join(tiny, f), path.join(folder, 'blobs', etag));
      fs.symlinkSync(path.join('..', '..', 'blobs', etag), path.join(folder, 'snapshots', COMMIT, f));
    }
    return cacheDir;
  }

  it('resolves a pre-filled cache without a single request, and the model loads', async () => {
    process.env['HF_HUB_OFFLINE'] = '1';
    process.env['HF_HUB_CACHE'] = prefilledCache();
    process.env['HF_ENDPOINT'] = server.url;
    const before = server.requests.length;
    const m = await T5ForConditionalGeneration.fromPretrained('google/t5-small-lm-adapt');
    expect(server.requests.length).toBe(before);
    const ids = tf.tensor2d([[5, 6, 1]], undefined, 'int32');
    const out = tf.tidy(() => m.forward({ inputIds: ids, decoderInputIds: tf.tensor2d([[0, 5]], undefined, 'int32') }).logits.shape);
    expect(out).toEqual([1, 2, 300]);
    ids.dispose();
    m.dispose();
    expect(await resolvePretrained(`google/t5-small-lm-adapt@${COMMIT}`)).toMatch(new RegExp(`snapshots/${COMMIT}$`));
  });

  it('a cache filled online is read back offline (what one side downloads, the other reuses)', async () => {
    const cacheDir = freshCache();
    const online = await resolvePretrained('tagi/sharded-t5', { cacheDir, endpoint: server.url });
    const before = server.requests.length;
    expect(await resolvePretrained('tagi/sharded-t5', { cacheDir, offline: true })).toBe(online);
    expect(server.requests.length).toBe(before);
  });

  it('misses name the repo, revision, file and cache', async () => {
    process.env['HF_HUB_OFFLINE'] = 'true';
    const cacheDir = prefilledCache();
    const miss = await resolvePretrained('tagi/not-cached', { cacheDir }).catch((e: unknown) => e);
    expect(miss).toBeInstanceOf(OfflineCacheMissError);
    expect(String(miss)).toMatch(new RegExp(`tagi/not-cached@main: HF_HUB_OFFLINE is set and the HF cache \\(${cacheDir}\\) has no snapshot`));
    await expect(resolvePretrained('google/t5-small-lm-adapt@v2', { cacheDir })).rejects.toBeInstanceOf(OfflineCacheMissError);
    const noAdapter = await resolvePretrained('google/t5-small-lm-adapt', { cacheDir, files: PEFT_ADAPTER_FILES }).catch((e: unknown) => e);
    expect(noAdapter).toMatchObject({ code: 'offline-cache-miss', file: 'adapter_config.json' });
    // a snapshot link whose blob is gone is a miss, not a half-loaded model
    const folder = path.join(cacheDir, repoFolderName('google/t5-small-lm-adapt'));
    fs.rmSync(path.join(folder, 'blobs', sha256(path.join(tiny, 'model.safetensors'))));
    await expect(resolvePretrained('google/t5-small-lm-adapt', { cacheDir })).rejects.toMatchObject({
      file: 'model.safetensors or model.safetensors.index.json',
    });
  });
});

describe('the fixture Hub takes uploads as @huggingface/hub makes them', () => {
  it('createRepo + uploadFiles (an LFS safetensors file and a regular JSON file), then the new commit downloads byte-identical', async () => {
    const { HubApiError, createRepo, uploadFiles } = await import('@huggingface/hub');
    const adapter = path.join(tiny, 'lora');
    const hub = { hubUrl: server.url, accessToken: TOKEN };
    await createRepo({ ...hub, repo: { type: 'model', name: 'someone/pushed-adapter' } });
    // the Hub's answer to a second create is 409; without the token, 401
    const again = await createRepo({ ...hub, repo: { type: 'model', name: 'someone/pushed-adapter' } }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(HubApiError);
    expect((again as InstanceType<typeof HubApiError>).statusCode).toBe(409);
    const denied = await createRepo({ hubUrl: server.url, accessToken: 'hf_wrong', repo: { type: 'model', name: 'someone/other' } }).catch((e: unknown) => e);
    expect((denied as InstanceType<typeof HubApiError>).statusCode).toBe(401);

    const files = ['adapter_config.json', 'adapter_model.safetensors'].map((f) => ({ path: f, content: new Blob([fs.readFileSync(path.join(adapter, f))]) }));
    const before = server.requests.length;
    const out = await uploadFiles({ ...hub, repo: { type: 'model', name: 'someone/pushed-adapter' }, files, commitTitle: 'Add the adapter' });
    expect(out?.commit.oid).toMatch(/^[0-9a-f]{40}$/);
    const asked = server.requests.slice(before);
    expect(asked).toContain('POST /api/models/someone/pushed-adapter/preupload/main');
    expect(asked).toContain('POST /someone/pushed-adapter.git/info/lfs/objects/batch');
    expect(asked.some((r) => r.startsWith('PUT /lfs-upload/'))).toBe(true);
    expect(asked.at(-1)).toBe('POST /api/models/someone/pushed-adapter/commit/main');

    const dir = await resolvePretrained('someone/pushed-adapter', { cacheDir: freshCache(), endpoint: server.url, files: PEFT_ADAPTER_FILES });
    expect(dir).toMatch(new RegExp(`snapshots/${out?.commit.oid}$`));
    for (const f of ['adapter_config.json', 'adapter_model.safetensors'])
      expect(fs.readFileSync(path.join(dir, f)).equals(fs.readFileSync(path.join(adapter, f)))).toBe(true);
    // the safetensors file is an LFS blob (named by its sha256 in the cache), the JSON a regular one
    expect(fs.realpathSync(path.join(dir, 'adapter_model.safetensors'))).toMatch(
      new RegExp(`blobs/${sha256(path.join(adapter, 'adapter_model.safetensors'))}$`),
    );
    expect(fs.realpathSync(path.join(dir, 'adapter_config.json'))).toMatch(new RegExp(`blobs/${gitOid(path.join(adapter, 'adapter_config.json'))}$`));

    // a second commit changes main; the first stays readable by its sha
    const second = await uploadFiles({
      ...hub,
      repo: { type: 'model', name: 'someone/pushed-adapter' },
      files: [{ path: 'README.md', content: new Blob(['# pushed\n']) }],
    });
    expect(second?.commit.oid).not.toBe(out?.commit.oid);
    expect([...(server.files('someone/pushed-adapter')?.keys() ?? [])].sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect([...(server.files('someone/pushed-adapter', out?.commit.oid)?.keys() ?? [])].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });
});
