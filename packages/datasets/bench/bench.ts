// `pnpm bench`: streams a generated >= 200 MB jsonl corpus and reports throughput and memory, and
// times the embedded suite's generation. Run once; figures go to stdout.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { EMBEDDED_SUITES, compositionalSuite, embeddedSuite, prepareInstruction } from '../src/index.js';
import { jsonlCorpus } from '../src/node.js';

const MB = 1024 * 1024;
const targetMb = Number(process.env.TAGI_BENCH_MB ?? 220);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagi-datasets-bench-'));
  try {
    const file = path.join(dir, 'corpus.jsonl');
    const ws = createWriteStream(file);
    const words = 'the quick brown fox jumps over the lazy dog while a small bird sings in the old tree'.split(' ');
    let bytes = 0;
    let i = 0;
    while (bytes < targetMb * MB) {
      const len = 80 + (i % 400);
      const text = Array.from({ length: len }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(' ');
      const line = `${JSON.stringify({ text, timestamp: '2019-04-25T12:57:54Z', url: `https://example.org/${i}` })}\n`;
      bytes += Buffer.byteLength(line);
      i++;
      if (!ws.write(line)) await new Promise<void>((r) => ws.once('drain', () => r()));
    }
    await new Promise<void>((r) => ws.end(r));
    const size = statSync(file).size;
    const heap0 = process.memoryUsage().heapUsed;
    const rss0 = process.memoryUsage().rss;
    let peakHeap = 0;
    let peakRss = 0;
    let docs = 0;
    let chars = 0;
    const t0 = performance.now();
    for await (const d of jsonlCorpus(file)) {
      docs++;
      chars += d.text.length;
      if (docs % 5000 === 0) {
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed - heap0);
        peakRss = Math.max(peakRss, m.rss - rss0);
      }
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `jsonlCorpus: ${(size / MB).toFixed(0)} MB, ${docs} documents, ${(chars / 1e6).toFixed(0)}M chars in ${secs.toFixed(1)} s = ${(size / MB / secs).toFixed(0)} MB/s`,
    );
    console.log(`  peak heap growth ${(peakHeap / MB).toFixed(1)} MB, peak RSS growth ${(peakRss / MB).toFixed(1)} MB (file ${(size / MB).toFixed(0)} MB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  for (const name of EMBEDDED_SUITES) {
    const t1 = performance.now();
    const suite = embeddedSuite({ name, seed: 0 });
    const ms = performance.now() - t1;
    const n = suite.tasks.reduce((a, t) => a + t.instances.length, 0);
    console.log(`embeddedSuite('${name}'): ${suite.tasks.length} tasks, ${n} instances generated in ${ms.toFixed(0)} ms`);
  }
  const suite = compositionalSuite();
  const t2 = performance.now();
  let rows = 0;
  for (const task of suite.train) {
    const p = prepareInstruction(task, 'Def+2Pos');
    for (const inst of task.instances) {
      p.forInput(inst.input);
      rows++;
    }
  }
  console.log(`prepareInstruction (texts, Def+2Pos): ${rows} instances of ${suite.train.length} tasks in ${(performance.now() - t2).toFixed(0)} ms`);
}

await main();
