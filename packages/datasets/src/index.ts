// Public API of @tagi/datasets. Browser-safe: Node-only IO lives in '@tagi/datasets/node'.

// records and errors
export type { ChoiceExample, Seq2SeqExample, SkipReport, Task, TaskExample, TaskInstance, TextDocument } from './types.js';
export { DatasetArgumentError, DatasetFieldError, DatasetParseError, TemplateFieldError } from './errors.js';

// seeded sampling
export { DataRng, hashString } from './rng.js';

// Tk-Instruct / TAGI prompt formatting
export {
  PROMPT_SETTINGS,
  buildPrompt,
  formatDefinition,
  formatExample,
  formatTaskInput,
  type BuiltPrompt,
  type PromptOptions,
  type PromptParts,
  type PromptSetting,
} from './prompts.js';

// the one instruction -> model input function (training, evaluation, CLI and playground)
export {
  prepareInstruction,
  resolveInstructionFormat,
  tagiExamples,
  type InstructionFormat,
  type InstructionFormatSpec,
  type InstructionSource,
  type PrepareInstructionOptions,
  type PreparedInput,
  type PreparedInstruction,
  type TagiExample,
  type TagiExampleOptions,
  type TokenEncoder,
  type TruncationReport,
} from './instruction.js';
// a run's instruction inputs, built from its config's `prompt` object: prepared once per task, one cut policy
export {
  InstructionInputs,
  hypernetInstructionIds,
  instructionText,
  type InstructionInputsSource,
  type InstructionPrompt,
  type InstructionTokenizer,
} from './instruction-inputs.js';

// the embedded task suites ('compositional-v2', the default; 'compositional-v1'; 'lexical-v1')
export {
  DEFAULT_EMBEDDED_SUITE,
  EMBEDDED_SUITES,
  compositionalSuite,
  embeddedSuite,
  suiteTexts,
  type EmbeddedCategoryInfo,
  type EmbeddedSuite,
  type EmbeddedSuiteName,
  type EmbeddedSuiteOptions,
  type EmbeddedTask,
  type HeldOutReason,
} from './embedded/suite.js';
export {
  COMPOSITIONAL_SUITE,
  COMPOSITIONAL_SUITE_V2,
  compositionalDefaults,
  compositionalPretrainingText,
  compositionalPretrainingPairs,
  inputAnalysis,
  type PretrainingPair,
  type CompositionalFamilyInfo,
  type CompositionalSplit,
  type CompositionalSuite,
  type CompositionalSuiteName,
  type CompositionalSuiteOptions,
  type CompositionalTask,
} from './embedded/compositional/suite.js';
export { CLASS_WORDS, CLASS_PHRASES, LEXICON, classOfWord, oppositeOf, type ClassName } from './embedded/compositional/lexicon.js';
export {
  baselineTable,
  embeddedBaselines,
  evaluationSplits,
  localRougeL,
  type BaselineOptions,
  type BaselineRow,
  type EmbeddedBaselines,
  type Predictor,
} from './embedded/baselines.js';
export { CLASS_NAMES, RELATIONS, WORD_CLASSES, classOf, inputVocabulary, type Relation, type WordClass } from './embedded/lexicon.js';

// JSON helpers with file/line errors
export { parseJsonText, parseJsonl } from './json.js';

// Super-NaturalInstructions (parsing, splits, selection); file IO in '@tagi/datasets/node'
export {
  deriveInstanceId,
  groupByCategory,
  parseSniReferences,
  parseSniTask,
  parseSniTaskText,
  parseSplitFile,
  sampleInstances,
  sniTestInstances,
  type ParseSniOptions,
  type SniReference,
} from './sni.js';

// P3 / promptsource (rendering, field mapping, choice examples); file IO in '@tagi/datasets/node'
export { parsePromptsourceYaml, renderAnswerChoices, renderTemplate, type PromptTemplate, type RenderOptions, type RenderedPrompt } from './promptsource.js';
export { T0_HELD_OUT, choiceExamples, t0EvalTemplates, toHfExample, type HfExample, type P3Dataset, type RowSource } from './p3.js';

// dataset registry (file-based datasets are added by '@tagi/datasets/node')
export {
  getDatasetLoader,
  listDatasets,
  loadDataset,
  optEnum,
  optNumber,
  optString,
  registerDataset,
  type DatasetLoader,
  type DatasetOptions,
  type LoadedDataset,
} from './registry.js';
