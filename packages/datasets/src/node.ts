// Node-only entry of @tagi/datasets: file IO (SNI files, P3 files, streaming text corpora).
// The main entry stays browser-safe.

// Super-NaturalInstructions files
export { loadSniTask, loadSniTasks, readSniReferences, readSniSplit, type LoadSniTasksOptions } from './node/sni.js';

// P3 / promptsource files
export { loadP3Examples, loadPromptsourceTemplates, sharedP3File } from './node/p3.js';

// streaming readers and text corpora
export { parseCsv, readJsonl, readJsonlArray, readLines } from './node/lines.js';
export { jsonlCorpus, plainTextCorpus, type JsonlCorpusOptions, type PlainTextOptions, type TextCorpus } from './node/text.js';
