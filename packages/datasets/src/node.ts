// Node-only entry of @tagi/datasets: file IO (SNI files, P3 files, streaming text corpora).
// The main entry stays browser-safe.

// Super-NaturalInstructions files
export { loadSniTask, loadSniTasks, readSniReferences, readSniSplit, type LoadSniTasksOptions } from './node/sni.js';

// P3 / promptsource files
export { loadP3Examples, loadPromptsourceTemplates, sharedP3File } from './node/p3.js';

// streaming readers and text corpora
export { parseCsv, readJsonl, readJsonlArray, readLines } from './node/lines.js';
export { jsonlCorpus, plainTextCorpus, type JsonlCorpusOptions, type PlainTextOptions, type TextCorpus } from './node/text.js';

// registry: the file-based datasets ("sni", "p3", "text-jsonl", "text-plain", "jsonl-task")
export { registerNodeDatasets } from './node/datasets.js';
export { jsonlTaskLoader } from './node/loaders/jsonl-task.js';
import { registerNodeDatasets } from './node/datasets.js';
import { loadDataset as loadRegistered, type DatasetOptions, type LoadedDataset } from './registry.js';

/** `loadDataset` with the file-based datasets registered as well as the embedded suite. */
export async function loadDataset(name: string, options: DatasetOptions = {}): Promise<LoadedDataset> {
  registerNodeDatasets();
  return loadRegistered(name, options);
}
