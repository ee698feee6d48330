// What the playground page holds between actions: the open dir, its models, the generated adapters, the
// examples, and the TAGI model loaded into this page. One object, shared by the tabs.
import type { SuiteExample } from '../engine-types';
import type { InPageTagi } from '../web/tagi-browser';
import type { GenerateAnswer, OpenAnswer } from './api';

export interface PageState {
  /** The open run or model dir. */
  dir: string;
  info: OpenAnswer | null;
  /** The adapter of the Try page's instruction (the Adapter page shows it). */
  adapter: GenerateAnswer | null;
  /** The adapter of the Adapter page's second instruction. */
  adapterB: GenerateAnswer | null;
  examples: SuiteExample[];
  /** Expected outputs by input line, for the example's instruction (`expectedFor`) only. */
  expected: Map<string, string[]>;
  expectedFor: string;
  /** The example last picked: its task id goes with the instruction while the text is unchanged. */
  example: SuiteExample | null;
  /** TAGI loaded into this page, for one dir. */
  inPage: { dir: string; runner: InPageTagi } | null;
}

export const state: PageState = {
  dir: '',
  info: null,
  adapter: null,
  adapterB: null,
  examples: [],
  expected: new Map(),
  expectedFor: '',
  example: null,
  inPage: null,
};
