// Node-only entry of @tagi/datasets: file IO (SNI files, P3 files, streaming text corpora).
// The main entry stays browser-safe.

// Super-NaturalInstructions files
export { loadSniTask, loadSniTasks, readSniReferences, readSniSplit, type LoadSniTasksOptions } from './node/sni.js';
