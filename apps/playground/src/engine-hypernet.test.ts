// The engine on a run dir holding a base T5 and a (randomly initialised) hypernet checkpoint, recorded by
// role in trainer_state.json: adapter generation from ids prepared by prepareInstruction (over-long
// instructions cut as training cuts them, with a warning), statistics, comparison, and the self-describing
// export (the peft pair read back with @tagi/lora, the whole export rebuilt with @tagi/hypernet).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { HyperNetwork, TINY_HYPERNET_CONFIG, generateWithTask } from '@tagi/hypernet';
import { readTaskAdapter, saveHypernet } from '@tagi/hypernet/node';
import { embeddedSuite, prepareInstruction } from '@tagi/datasets';
import { AdapterSet, loraConfig } from '@tagi/lora';
import { loadAdapter, saveAdapter } from '@tagi/lora/node';
import { initBackend } from '@tagi/tensor-core';
import { createRandomT5, makeT5Config } from '@tagi/t5-model';
import { DEFAULT_TOKENIZER_DIR, T5ForConditionalGeneration, loadT5Tokenizer, saveT5 } from '@tagi/t5-model/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDoneRunState } from '../test/synthetic-run';
import { TagiEngine } from './engine';
import { readZip } from './zip';

describe('TagiEngine with a hypernet checkpoint', () => {
  let tmp: string;
  let run: string;
  let engine: TagiEngine;
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-engine-hn-')));
    run = path.join(tmp, 'run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), '{"step":1,"loss":1}\n');
    const base = createRandomT5(
      makeT5Config({
        vocabSize: 32128,
        dModel: 16,
        dKv: 4,
        numHeads: 2,
        dFf: 16,
        numLayers: 1,
        relativeAttentionNumBuckets: 8,
        relativeAttentionMaxDistance: 16,
      }),
      5,
    );
    await saveT5(base, path.join(run, 'base'));
    base.dispose();
    // the hypernet must sit on the saved-and-reloaded base (its checkpoint records a weights fingerprint)
    const reloaded = await T5ForConditionalGeneration.fromPretrained(path.join(run, 'base'));
    const hn = new HyperNetwork(reloaded, { ...TINY_HYPERNET_CONFIG, maxInstructionLength: 64 }, { seed: 3 });
    // a fresh hypernet emits B = 0 (LoRA's zero init): give every weight a seeded random value instead
    hn.namedParameters().forEach(([, v], i) => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', 100 + i)));
    await saveHypernet(path.join(run, 'hypernet'), hn);
    hn.dispose();
    // the instruction-concatenated baseline as `tagi demo` trains it: a LoRA on the base model
    const multitask = AdapterSet.create(reloaded, loraConfig({ r: 2, loraAlpha: 4, targetModules: ['q', 'v'] }));
    await saveAdapter(path.join(run, 'multitask-lora'), multitask);
    multitask.dispose();
    reloaded.dispose();
    fs.writeFileSync(path.join(run, 'config.json'), JSON.stringify({ prompt: { numPos: 0, maxSourceLength: 48 } }));
    await writeDoneRunState(run, [
      { role: 'base-model', kind: 't5', path: 'base' },
      { role: 'multitask-adapter', kind: 'peft', path: 'multitask-lora' },
      { role: 'hypernet-tagi', kind: 'hypernet', path: 'hypernet' },
    ]);
    engine = new TagiEngine({ backend: 'cpu', maxNewTokens: 5 });
  });
  afterAll(() => {
    engine?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("opens the run: models by role, the prompt settings of its config.json, the hypernet's instruction budget", async () => {
    const info = await engine.open(run);
    expect(info.models.tagi).toEqual({ available: true, dir: path.join(run, 'hypernet'), role: 'hypernet-tagi' });
    expect(info.models.concat).toEqual({ available: true, dir: path.join(run, 'multitask-lora'), role: 'multitask-adapter' });
    expect(info.prompt).toEqual({ numPositive: 0, maxSourceTokens: 48, maxInstructionTokens: 64, from: 'config.json' });
    expect(info.hypernet).toEqual({ fusion: TINY_HYPERNET_CONFIG.fusion ?? 'concat', peftReproducesTagi: false, rank: TINY_HYPERNET_CONFIG.rank });
  });

  it('cuts an over-long instruction as training does (prepareInstruction, eos kept) and warns, instead of refusing it', async () => {
    const long = 'word '.repeat(80);
    const a = await engine.generate(run, { instruction: long });
    const tok = loadT5Tokenizer(DEFAULT_TOKENIZER_DIR);
    const expected = prepareInstruction(long, {}, { encoder: tok, maxInstructionTokens: 64, maxSourceTokens: 48 });
    expect(a.instructionIds).toEqual([...expected.instructionIds!]);
    expect(a.instructionIds).toHaveLength(64);
    expect(a.instructionIds.at(-1)).toBe(tok.eosTokenId);
    expect(a.truncation).toEqual(expected.truncation);
    expect(a.warnings).toEqual([
      expect.stringMatching(
        /^the instruction \(what the hypernetwork reads\): \d+ tokens, more than the 64 the run allows; \d+ tokens cut from the end of the definition \(eos kept\), as training cuts its texts — 64 tokens used$/,
      ),
    ]);
    const short = await engine.generate(run, { instruction: 'Say yes.' });
    expect(short.warnings).toEqual([]);
    expect(short.truncation).toBeUndefined();
  });

  it("formats a suite task with the run's demonstrations and cuts it as training does: demonstrations first", async () => {
    // a second run over the same models (given as inputs, by absolute path) whose training used Def+3Pos
    const run3 = path.join(tmp, 'run-3pos');
    fs.mkdirSync(run3);
    fs.writeFileSync(path.join(run3, 'config.json'), JSON.stringify({ prompt: { numPos: 3, maxSourceLength: 48 } }));
    await writeDoneRunState(
      run3,
      [],
      [
        { role: 'base-model', kind: 't5', path: path.join(run, 'base') },
        { role: 'hypernet-tagi', kind: 'hypernet', path: path.join(run, 'hypernet') },
      ],
    );
    const ex = (await engine.examples({ numPositive: 3 }))[0]!;
    const task = embeddedSuite().tasks.find((t) => t.taskId === ex.task)!;
    const tok = loadT5Tokenizer(DEFAULT_TOKENIZER_DIR);
    const asTrained = prepareInstruction(task, { numPositive: 3 }, { encoder: tok, maxInstructionTokens: 64, maxSourceTokens: 48 });
    expect(asTrained.truncation?.droppedPositive).toBeGreaterThan(0); // this task's Def+3Pos is longer than 64 tokens
    const a = await engine.generate(run3, { instruction: ex.instruction, task: ex.task });
    expect(a.task).toBe(ex.task);
    expect(a.instructionIds).toEqual([...asTrained.instructionIds!]);
    expect(a.warnings).toEqual([
      expect.stringMatching(/^the instruction .*: \d+ tokens, more than the 64 the run allows; \d demonstrations? dropped from the end/),
    ]);
    // the same text as free text would be cut inside a demonstration instead: not what training read
    const typed = prepareInstruction(ex.instruction, {}, { encoder: tok, maxInstructionTokens: 64 });
    expect(a.instructionIds).not.toEqual([...typed.instructionIds!]);
    expect((await engine.generate(run3, { instruction: `${ex.instruction}\nAlso be brief.`, task: ex.task })).task).toBeUndefined();
  });

  it('generates an adapter with per-module statistics, runs it, compares two, exports it for peft', async () => {
    const a = await engine.generate(run, { instruction: 'Write the word backwards.' });
    expect(a.modules.length).toBeGreaterThan(0);
    for (const m of a.modules) {
      expect(m.rank).toBe(TINY_HYPERNET_CONFIG.rank);
      expect(m.deltaNorm).toBeGreaterThan(0);
      expect(m.effectiveRank).toBeGreaterThanOrEqual(1 - 1e-6);
      expect(m.effectiveRank).toBeLessThanOrEqual(m.rank + 1e-6);
    }
    const { results } = await engine.run(run, { instruction: 'Write the word backwards.' }, a.id, ['cat', 'a longer input']);
    expect(results.map((r) => [r.model, r.outputs?.length ?? r.error])).toEqual([
      ['tagi', 2],
      ['base', 2],
      ['concat', 2],
    ]);
    const { results: alone } = await engine.run(run, { instruction: 'Write the word backwards.' }, a.id, ['a longer input']);
    expect(alone[0]!.outputs).toEqual([results[0]!.outputs![1]]);
    await expect(engine.run(run, { instruction: 'Another instruction.' }, a.id, ['cat'])).rejects.toThrow(/generated from another instruction/);

    const same = await engine.diff(a.id, a.id);
    for (const m of same) {
      expect(m.diffNorm).toBe(0);
      expect(m.cosine).toBeCloseTo(1, 5);
    }
    const b = await engine.generate(run, { instruction: 'Count the vowels in the sentence and answer with a number.' });
    const diff = await engine.diff(a.id, b.id);
    expect(diff.map((m) => m.module)).toEqual(a.modules.map((m) => m.module));
    expect(diff.some((m) => m.relative > 1e-4)).toBe(true);

    // the multitask LoRA of this run has B = 0 (LoRA's init): ΔW_b = 0, so the difference is all of ΔW_a
    const vsPeft = await engine.diffWithPeft(a.id, path.join(run, 'multitask-lora'));
    expect(vsPeft.map((m) => m.module).sort()).toEqual(a.modules.map((m) => m.module).sort());
    for (const m of vsPeft) {
      expect(m.relative).toBeCloseTo(1, 6);
      expect(m.cosine).toBe(0);
      expect(m.diffNorm).toBeCloseTo(a.modules.find((x) => x.module === m.module)!.deltaNorm, 4);
    }
    await expect(engine.diffWithPeft(a.id, path.join(run, 'hypernet'))).rejects.toThrow(/not a peft adapter dir/);

    const exp = await engine.exportAdapter(a.id);
    const zip = (await import('./zip')).writeZip(exp.files.map((f) => ({ name: `${exp.folder}/${f.name}`, data: f.data })));
    const out = path.join(tmp, 'unzipped');
    for (const e of readZip(zip)) {
      fs.mkdirSync(path.join(out, path.dirname(e.name)), { recursive: true });
      fs.writeFileSync(path.join(out, e.name), e.data);
    }
    const dir = path.join(out, `tagi-adapter-${a.id}`);
    // the files `tagi generate` writes: the peft pair, tagi_adapter.json and (concat fusion) tagi_fusion.safetensors
    expect(fs.readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'tagi_adapter.json', 'tagi_fusion.safetensors']);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'tagi_adapter.json'), 'utf8'));
    expect(meta).toMatchObject({
      format: 'tagi-adapter',
      format_version: 1,
      fusion: 'concat',
      peft_reproduces_tagi: false,
      instruction: 'Write the word backwards.',
      instruction_ids: a.instructionIds,
    });
    expect(meta.hypernet.name).toBe(path.join(run, 'hypernet'));
    expect(meta.hypernet.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    // the peft layout, read straight from the bytes (not through @tagi/lora): an 8-byte little-endian
    // header length, a JSON header, keys base_model.model.<module>.lora_A/B.weight, A [r, in], B [out, r]
    const st = fs.readFileSync(path.join(dir, 'adapter_model.safetensors'));
    const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString('utf8')) as Record<string, { dtype: string; shape: number[] }>;
    const keys = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(keys).toHaveLength(2 * a.modules.length);
    for (const m of a.modules) {
      const A = header[`base_model.model.${m.module}.lora_A.weight`]!;
      const B = header[`base_model.model.${m.module}.lora_B.weight`]!;
      expect(A.dtype).toBe('F32');
      expect(A.shape[0]).toBe(TINY_HYPERNET_CONFIG.rank);
      expect(B.shape[1]).toBe(TINY_HYPERNET_CONFIG.rank);
      expect([B.shape[0], A.shape[1]]).toEqual([8, 16]); // q and v: [heads·d_kv, d_model] = [2·4, 16]
    }
    expect((header as unknown as { __metadata__: Record<string, string> }).__metadata__).toEqual({ format: 'pt' });
    const base = await T5ForConditionalGeneration.fromPretrained(path.join(run, 'base'));
    const loaded = await loadAdapter(dir, { model: base });
    const whole = await readTaskAdapter(dir, base);
    try {
      expect(loaded.paths.sort()).toEqual(a.modules.map((m) => m.module).sort());
      const stats = new Map(loaded.stats().map((s) => [s.path, s]));
      for (const m of a.modules) {
        expect(stats.get(m.module)!.normDelta).toBeCloseTo(m.deltaNorm, 5);
        expect(stats.get(m.module)!.effectiveRank).toBeCloseTo(m.effectiveRank, 5);
      }
      const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
      expect(cfg.peft_type).toBe('LORA');
      expect(cfg.r).toBe(TINY_HYPERNET_CONFIG.rank);
      // the whole export (peft + fusion inputs), rebuilt on the base alone, answers as the server's TAGI column did
      const tok = loadT5Tokenizer(DEFAULT_TOKENIZER_DIR);
      const tokens = await generateWithTask(base, whole, [tok.encode('cat'), tok.encode('a longer input')], { maxNewTokens: 5 });
      expect(tokens).toEqual(results[0]!.tokens);
    } finally {
      whole.dispose();
      loaded.dispose();
      base.dispose();
    }
  });

  it('gives TAGI logits along the generated tokens whose argmax is each next greedy token, without leaks', async () => {
    const instruction = 'Write the word backwards.';
    const inputs = ['cat', 'a longer input with more words'];
    const a = await engine.generate(run, { instruction });
    const tagi = (await engine.run(run, { instruction }, a.id, inputs)).results[0]!;
    expect(tagi.tokens).toHaveLength(2);
    const before = tf.memory().numTensors;
    const { data, shape } = await engine.logits(run, { instruction }, a.id, inputs, tagi.tokens!);
    expect(tf.memory().numTensors).toBe(before);
    const [b, t, v] = shape;
    expect([b, t, v]).toEqual([2, Math.max(...tagi.tokens!.map((r) => r.length)), 32128]);
    expect(data).toHaveLength(b * t * v);
    let checked = 0;
    tagi.tokens!.forEach((row, r) => {
      for (let s = 0; s + 1 < row.length; s++) {
        const at = (r * t + s) * v;
        let best = 0;
        for (let k = 1; k < v; k++) if (data[at + k]! > data[at + best]!) best = k;
        expect(best, `row ${r} step ${s}`).toBe(row[s + 1]);
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(0);
    await expect(engine.logits(run, { instruction: 'Other.' }, a.id, inputs, tagi.tokens!)).rejects.toThrow(/generated from another instruction/);
    await expect(engine.logits(run, { instruction }, a.id, inputs, [[0, 40000], [0]])).rejects.toThrow(/decoderIds\.0\.1: expected a token id in \[0, 32128\)/);
  });

  it('drops old adapters beyond its keep limit and frees their tensors', async () => {
    const small = new TagiEngine({ backend: 'cpu', keepAdapters: 1 });
    try {
      const first = await small.generate(run, { instruction: 'Say yes.' });
      const afterFirst = tf.memory().numTensors;
      await small.generate(run, { instruction: 'Say no.' });
      expect(tf.memory().numTensors).toBe(afterFirst);
      await expect(small.exportAdapter(first.id)).rejects.toThrow(/not generated in this server, or dropped since/);
    } finally {
      small.dispose();
    }
  });
});
