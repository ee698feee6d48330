// `tagi pretrain --data FILE.jsonl|FILE.txt|DIR`: a text corpus as the hypernetwork's pretraining
// documents (stage 2 splits each into a|b|c), instead of the training tasks' texts. A .jsonl file holds one
// {"text": …} document per line (C4 layout, @tagi/datasets' jsonlCorpus: streamed, a bad line is an error
// naming file, line and field); a .txt file holds documents separated by blank lines (plainTextCorpus); a
// directory contributes its .jsonl and .txt files in name order.
import { DatasetFieldError, DatasetParseError } from '@tagi/datasets';
import { type TextCorpus, jsonlCorpus, plainTextCorpus } from '@tagi/datasets/node';
import { type Tok, modelTokenizer } from './tasks.js';
import { CliError } from '../common/errors.js';
import { classifyData } from './sources.js';
import type { Run } from '../run/run.js';

/** The tokenised documents of a corpus, each cut to `maxTokens` (stage 2 reads at most a+b+c tokens of a document at a time). */
export async function corpusDocuments(files: readonly string[], tok: Tok, maxTokens: number): Promise<{ documents: number[][]; skipped: number }> {
  const documents: number[][] = [];
  let skipped = 0;
  for (const file of files) {
    const corpus: TextCorpus = file.endsWith('.jsonl') ? jsonlCorpus(file) : plainTextCorpus(file);
    try {
      for await (const doc of corpus) documents.push(tok.encode(doc.text, { addSpecialTokens: false }).slice(0, maxTokens));
    } catch (e) {
      if (e instanceof DatasetFieldError)
        throw new CliError(`--data: ${e.message} (each line of a .jsonl corpus is a JSON object with a "text" string, e.g. {"text": "…"})`);
      if (e instanceof DatasetParseError) throw new CliError(`--data: ${e.message} (each line of a .jsonl corpus is one JSON object)`);
      throw e;
    }
    skipped += corpus.skips.skipped;
  }
  const usable = documents.filter((d) => d.length >= 3);
  if (usable.length === 0) throw new CliError(`--data: ${files.join(', ')}: no document of at least 3 tokens (found ${documents.length} documents)`);
  return { documents: usable, skipped: skipped + documents.length - usable.length };
}

/** For --data naming a text corpus: the pretraining documents and the model's tokenizer; undefined for task data. */
export async function readCorpus(run: Run): Promise<{ data: { documents: number[][] }; tok: Tok } | undefined> {
  const d = classifyData(run.config.data);
  if (d.kind !== 'text') return undefined;
  const tok = modelTokenizer(run.config.model);
  const p = run.config.hypernet.pretrain;
  const { documents, skipped } = await corpusDocuments(d.files, tok, 4 * (p.segmentA + p.segmentB + p.segmentC));
  const tokens = documents.reduce((s, x) => s + x.length, 0);
  run.progress.info(
    `data: text corpus ${d.files.length === 1 ? d.files[0] : `${d.files.length} files`}: ${documents.length} documents, ${tokens} tokens (each cut to ${4 * (p.segmentA + p.segmentB + p.segmentC)})${skipped > 0 ? `; ${skipped} empty or shorter than 3 tokens, skipped` : ''}; vocabulary ${tok.vocabSize} ids`,
  );
  return { data: { documents }, tok };
}
