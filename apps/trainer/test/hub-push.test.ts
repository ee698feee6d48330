// The Hub both ways, against the local fixture Hub (@tagi/t5-model/testing; no network): `tagi push` uploads a
// generated adapter (a task-adapter export), the multitask adapter and a trained hypernetwork with their model
// cards; `--hypernet=ORG/NAME` and `--adapter=ORG/NAME` pull them back through an empty HF cache: the same bytes,
// the same generated adapter and the same generated text; the cards parse as the Hub's YAML front matter. The
// token never appears in any output.
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateWithTask } from '@tagi/hypernet';
import { readTaskAdapter } from '@tagi/hypernet/node';
import { type HubFixture, startHubFixture } from '@tagi/t5-model/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { modelTokenizer } from '../src/data/tasks.js';
import { main } from '../src/cli/main.js';
import { cardMetadata, evaluationExcerpt, modelCard } from '../src/hub/model-card.js';
import { loadBaseModel } from '../src/data/models.js';
import { captureIO } from '../src/common/test-helpers.js';

const TOKEN = 'hf_fixtureWriteToken0123456789';
const root = mkdtempSync(path.join(tmpdir(), 'tagi-hub-push-'));
const runDir = path.join(root, 'demo');
const instruction = 'Return the last word of the input.';
const env = { ...process.env };
let hub: HubFixture;

async function tagi(argv: string[]) {
  const io = captureIO();
  const code = await main(argv, io);
  const r = { code, out: io.out(), err: io.err() };
  expect(`${r.out}${r.err}`).not.toContain(TOKEN);
  return r;
}

/** The YAML front matter of a README.md, parsed as the Hub does (between the first two `---` lines). */
function frontMatter(card: string): Record<string, unknown> {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(card);
  expect(m, 'the card starts with YAML front matter').not.toBeNull();
  return parseYaml(m![1]!) as Record<string, unknown>;
}
const filesOf = (dir: string) =>
  readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();
const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

beforeAll(async () => {
  const d = await tagi(['demo', '--preset=smoke', '--backend=cpu', `--run-dir=${runDir}`]);
  expect(d.code, d.err).toBe(0);
  const g = await tagi([
    'generate',
    '--backend=cpu',
    `--hypernet=${path.join(runDir, 'hypernet-tagi', 'seed-42')}`,
    `--instruction=${instruction}`,
    `--out=${path.join(root, 'local-adapter')}`,
  ]);
  expect(g.code, g.err).toBe(0);
  hub = await startHubFixture({}, { token: TOKEN });
  Object.assign(process.env, { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN, HF_HOME: path.join(root, 'hf-home'), HF_HUB_CACHE: path.join(root, 'empty-cache') });
  delete process.env['HF_HUB_OFFLINE'];
}, 600_000);

afterAll(async () => {
  await hub?.close();
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  Object.assign(process.env, env);
  rmSync(root, { recursive: true, force: true });
});

describe('tagi push and pull by id (fixture Hub)', () => {
  it('pushes a generated adapter, the multitask adapter and a hypernetwork, each with a card the Hub reads', async () => {
    const hn = path.join(runDir, 'hypernet-tagi', 'seed-42');
    const a = await tagi(['push', path.join(root, 'local-adapter'), '--repo=tagi-test/generated-adapter']);
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/^pushing task-adapter .* \(9 files, [\d.]+ MB; base model .*base-model under base-model\/\)$/m);
    expect(a.out).toMatch(
      /^pushed http:\/\/127\.0\.0\.1:\d+\/tagi-test\/generated-adapter \(commit [0-9a-f]{40}\); use it with --adapter=tagi-test\/generated-adapter/m,
    );
    const m = await tagi(['push', path.join(runDir, 'multitask-adapter'), '--repo=tagi-test/multitask', '--license=mit']);
    expect(m.code, m.err).toBe(0);
    const h = await tagi(['push', hn, '--repo=tagi-test/hypernet', '--private']);
    expect(h.code, h.err).toBe(0);
    expect(h.out).toMatch(/^created private repo tagi-test\/hypernet$/m);
    // pushing again to an existing repo is a new commit, not an error
    const again = await tagi(['push', hn, '--repo=tagi-test/hypernet', '--message=second push']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).not.toMatch(/created/);

    // the repo holds the dir's files unchanged, the base model under base-model/, and the card
    const adapterRepo = hub.files('tagi-test/generated-adapter')!;
    expect([...adapterRepo.keys()].filter((f) => !f.startsWith('base-model/')).sort()).toEqual(
      [...filesOf(path.join(root, 'local-adapter')), 'README.md'].sort(),
    );
    for (const f of filesOf(path.join(root, 'local-adapter')))
      expect(adapterRepo.get(f)!.equals(readFileSync(path.join(root, 'local-adapter', f))), f).toBe(true);
    for (const f of filesOf(path.join(runDir, 'base-model')))
      expect(adapterRepo.get(`base-model/${f}`)!.equals(readFileSync(path.join(runDir, 'base-model', f))), f).toBe(true);

    const adapterCard = adapterRepo.get('README.md')!.toString('utf8');
    const am = frontMatter(adapterCard);
    expect(am).toMatchObject({ library_name: 'peft', license: 'apache-2.0', pipeline_tag: 'text2text-generation', instruction, hypernetwork: hn });
    expect(am['tags']).toEqual(expect.arrayContaining(['tagi', 'peft', 'lora', 'generated-adapter']));
    expect(am['base_model']).toBeUndefined(); // a base trained here is not a Hub id: it travels in base-model/ instead
    expect(adapterCard).toMatch(/\*\*Base model\*\*: the small T5 in `base-model\/` of this repo/);
    expect(adapterCard).toMatch(/instruction fusion 'concat'/);
    expect(adapterCard).toMatch(/## Evaluation\n\nFrom `.*results\.md` of the run that made it:\n\nRun: `tagi demo`, preset smoke/);
    expect(adapterCard).toMatch(/\| TAGI \| 2 \|/); // the run's table

    const mm = frontMatter(hub.files('tagi-test/multitask')!.get('README.md')!.toString('utf8'));
    expect(mm).toMatchObject({ library_name: 'peft', license: 'mit' });
    expect(mm['instruction']).toBeUndefined();

    const hnRepo = hub.files('tagi-test/hypernet')!;
    const hm = frontMatter(hnRepo.get('README.md')!.toString('utf8'));
    expect(hm['library_name']).toBeUndefined();
    expect(hm['tags']).toEqual(expect.arrayContaining(['tagi', 'hypernetwork']));
    expect(hnRepo.get('README.md')!.toString('utf8')).toMatch(/npx @tagi\/trainer generate --hypernet=tagi-test\/hypernet/);
    for (const f of ['hypernet_config.json', 'hypernet.safetensors']) expect(hnRepo.get(f)!.equals(readFileSync(path.join(hn, f))), f).toBe(true);
  });

  it('pulls the hypernetwork by id through an empty HF cache (its base from base-model/) and generates the same adapter and the same text', async () => {
    const cache = process.env['HF_HUB_CACHE'] as string;
    expect(existsSync(cache)).toBe(false);
    // the base model is gone from where the hypernetwork recorded it: only the copy in the repo can serve
    const base = path.join(runDir, 'base-model');
    const moved = path.join(root, 'base-model-elsewhere');
    renameSync(base, moved);
    try {
      const g = await tagi([
        'generate',
        '--backend=cpu',
        '--hypernet=tagi-test/hypernet',
        `--instruction=${instruction}`,
        `--out=${path.join(root, 'pulled-adapter')}`,
      ]);
      expect(g.code, g.err).toBe(0);
      expect(g.out).toMatch(/base model .*models--tagi-test--hypernet\/snapshots\/[0-9a-f]{40}\/base-model\)/);
    } finally {
      renameSync(moved, base);
    }
    const snapshots = path.join(cache, 'models--tagi-test--hypernet', 'snapshots');
    const [commit] = readdirSync(snapshots);
    const snap = path.join(snapshots, commit!);
    const hn = path.join(runDir, 'hypernet-tagi', 'seed-42');
    for (const f of ['hypernet_config.json', 'hypernet.safetensors']) expect(same(path.join(snap, f), path.join(hn, f)), f).toBe(true);
    for (const f of filesOf(base)) expect(same(path.join(snap, 'base-model', f), path.join(base, f)), f).toBe(true);
    // the adapter generated from the pulled hypernetwork is the one generated from the local dir (weights byte for
    // byte; the JSON files differ only in the paths they record)
    const local = path.join(root, 'local-adapter');
    const pulled = path.join(root, 'pulled-adapter');
    expect(filesOf(pulled)).toEqual(filesOf(local));
    for (const f of ['adapter_model.safetensors', 'tagi_fusion.safetensors']) expect(same(path.join(pulled, f), path.join(local, f)), f).toBe(true);
    const meta = (d: string) =>
      JSON.parse(readFileSync(path.join(d, 'tagi_adapter.json'), 'utf8')) as { instruction_ids: number[]; hypernet: { weights_sha256: string } };
    expect(meta(pulled).instruction_ids).toEqual(meta(local).instruction_ids);
    expect(meta(pulled).hypernet.weights_sha256).toBe(meta(local).hypernet.weights_sha256);
  });

  it('pulls the generated adapter by id (--adapter resolution, byte-identical files) and it writes the same text as the local one', async () => {
    const { resolveModelId, ADAPTER_REPO_FILES } = await import('../src/cli/inputs.js');
    const dir = await resolveModelId('tagi-test/generated-adapter', captureIO(), '--adapter', ADAPTER_REPO_FILES);
    const local = path.join(root, 'local-adapter');
    for (const f of filesOf(local)) expect(same(path.join(dir, f), path.join(local, f)), f).toBe(true);
    const base = path.join(runDir, 'base-model');
    const model = await loadBaseModel(base);
    const tok = modelTokenizer(base);
    const inputs = ['alpha beta gamma', 'one two three four', 'red green'].map((s) => tok.encode(s));
    const a = await readTaskAdapter(local, model);
    const b = await readTaskAdapter(dir, model);
    try {
      const outA = await generateWithTask(model, a, inputs, { maxNewTokens: 8 });
      const outB = await generateWithTask(model, b, inputs, { maxNewTokens: 8 });
      expect(outB).toEqual(outA);
      expect(outA.flat().length).toBeGreaterThan(0);
    } finally {
      a.adapter.dispose();
      b.adapter.dispose();
      model.dispose();
    }
  });

  it('tagi eval --adapter=ORG/NAME scores what the local multitask adapter scores', async () => {
    const base = path.join(runDir, 'base-model');
    const ev = (adapter: string, dir: string) =>
      tagi(['eval', '--preset=smoke', '--backend=cpu', `--model=${base}`, `--adapter=${adapter}`, `--run-dir=${path.join(root, dir)}`]);
    const pulled = await ev('tagi-test/multitask', 'eval-pulled');
    expect(pulled.code, pulled.err).toBe(0);
    const local = await ev(path.join(runDir, 'multitask-adapter'), 'eval-local');
    expect(local.code, local.err).toBe(0);
    const rows = (d: string) =>
      (JSON.parse(readFileSync(path.join(root, d, 'results.json'), 'utf8')) as { rows: { method: string; scores: unknown }[] }).rows.map((r) => [
        r.method,
        r.scores,
      ]);
    expect(rows('eval-pulled')).toEqual(rows('eval-local'));
    expect(rows('eval-local').map(([m]) => m)).toContain('multitask');
  });

  it('refuses clearly: no token, a wrong token (never printed), a dir that is not an adapter or hypernetwork, a bad repo id', async () => {
    const token = process.env['HF_TOKEN'];
    delete process.env['HF_TOKEN'];
    try {
      const none = await tagi(['push', path.join(runDir, 'multitask-adapter'), '--repo=tagi-test/x']);
      expect(none.code).toBe(2);
      expect(none.err).toMatch(/^tagi: tagi push needs a Hub access token with write access: set HF_TOKEN/);
      process.env['HF_TOKEN'] = 'hf_notTheRightOne';
      const wrong = await tagi(['push', path.join(runDir, 'multitask-adapter'), '--repo=tagi-test/x']);
      expect(wrong.code).toBe(2);
      expect(wrong.err).toMatch(/the Hub answered 401 .*the token \(HF_TOKEN or the HF token file\) is not accepted/);
      expect(wrong.err).not.toContain('hf_notTheRightOne');
    } finally {
      process.env['HF_TOKEN'] = token;
    }
    const notModel = await tagi(['push', runDir, '--repo=tagi-test/x']);
    expect(notModel.code).toBe(2);
    expect(notModel.err).toMatch(/has no adapter_config\.json .* nor hypernet_config\.json/);
    const badRepo = await tagi(['push', path.join(runDir, 'multitask-adapter'), '--repo=no-org']);
    expect(badRepo.err).toMatch(/--repo: 'no-org' is not a Hub repo id ORG\/NAME/);
    const missing = await tagi([
      'eval',
      '--preset=smoke',
      `--model=${path.join(runDir, 'base-model')}`,
      '--adapter=tagi-test/does-not-exist',
      `--run-dir=${path.join(root, 'eval-x')}`,
    ]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^tagi: --adapter=tagi-test\/does-not-exist: tagi-test\/does-not-exist: no such repo on the Hub/);
    expect(existsSync(path.join(root, 'eval-x'))).toBe(false);
  });
});

describe('model cards', () => {
  it('front matter parses as YAML whatever the instruction holds, with base_model for a Hub base', () => {
    const tricky = 'Answer "yes" or "no": is the input\'s first word — in lower case — a colour? #1: not a comment\n---\nkey: value';
    const card = modelCard({
      kind: 'task-adapter',
      repo: 'org/x',
      license: 'apache-2.0',
      baseModelId: 'google/t5-small-lm-adapt',
      instruction: tricky,
      hypernet: { name: 'org/hn@abc' },
      lora: { rank: 8, alpha: 16, targets: ['q', 'v'], fusion: 'none' },
      files: ['adapter_config.json'],
    });
    const fm = frontMatter(card);
    expect(fm).toEqual({
      base_model: 'google/t5-small-lm-adapt',
      base_model_relation: 'adapter',
      library_name: 'peft',
      license: 'apache-2.0',
      pipeline_tag: 'text2text-generation',
      tags: ['tagi', 'text2text-generation', 't5', 'lora', 'peft', 'generated-adapter'],
      instruction: tricky,
      hypernetwork: 'org/hn@abc',
    });
    expect(card).toContain('PeftModel.from_pretrained(AutoModelForSeq2SeqLM.from_pretrained("google/t5-small-lm-adapt"), "org/x")');
    expect(cardMetadata({ kind: 'hypernet', repo: 'org/h', license: 'mit', files: [] })).not.toMatch(/library_name/);
  });

  it('the evaluation excerpt keeps the run line and the score tables, not the paired differences', () => {
    const md =
      'Run: `tagi demo`.\n\n### TAGI on the settings\n\n| Method | x |\n| --- | --- |\n| TAGI | 1 |\n\n**Paired differences, ROUGE-L**: …\n\n| a | b |\n';
    expect(evaluationExcerpt(md)).toBe('Run: `tagi demo`.\n\n### TAGI on the settings\n\n| Method | x |\n| --- | --- |\n| TAGI | 1 |');
  });
});
