// Node-only entry of @tagi/lora: peft adapter directories and teacher training with file checkpoints.
export { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, AdapterFileError, loadAdapter, readLoraConfig, saveAdapter } from './peft-files.js';
export type { LoadAdapterOptions, SaveAdapterOptions } from './peft-files.js';

// teacher training (stage 1 of TAGI): the LoRA objective run by tensor-core's fit
export { trainLoraTeacher } from './train-teacher.js';
export type { TeacherLogEntry, TeacherResult, TrainLoraTeacherOptions } from './train-teacher.js';
// browser-safe pieces, re-exported for callers that import everything from here
export { collate, evalLoss, loraObjective, processedTokens, TeacherTrainingError } from './teacher.js';
export type { LoraObjective, LoraObjectiveOptions, RecordTokenizer, Seq2SeqBatch, Seq2SeqModel, TokenizedExample } from './teacher.js';
