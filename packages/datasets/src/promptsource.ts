// promptsource templates (the prompts of P3 / T0 evaluation) rendered with @huggingface/jinja, following
// promptsource's Template.apply: `|||` separates input and target, `answer_choices` is itself a
// template, each part is stripped, field values are protected against a literal "|||", string fields
// are truncated to 2048 characters. promptsource's custom filters `choice`, `most_frequent` and
// `highlight` are provided (`choice` draws from a seeded generator: promptsource's is unseeded).
import { Environment, Interpreter, parse, tokenize } from '@huggingface/jinja';
import { parse as parseYamlText, type Tags } from 'yaml';
import { DatasetFieldError, DatasetParseError, TemplateFieldError } from './errors.js';
import { DataRng } from './rng.js';

/** One promptsource template (fields as in promptsource's templates.yaml). */
export interface PromptTemplate {
  readonly id: string;
  readonly name: string;
  /** Jinja source: "<input> ||| <target>". */
  readonly jinja: string;
  /** Jinja source of the answer choices, "A ||| B ||| C", or undefined. */
  readonly answerChoices?: string;
  readonly originalTask?: boolean;
  readonly choicesInPrompt?: boolean;
  readonly metrics?: readonly string[];
  readonly reference?: string;
  /** e.g. "super_glue/cb", "anli", "hellaswag". */
  readonly dataset: string;
}

/** The result of applying a template to one example. */
export interface RenderedPrompt {
  readonly input: string;
  /** null when the rendering has no "|||" target part (promptsource returns the input alone). */
  readonly target: string | null;
  readonly answerChoices?: readonly string[];
  /** promptsource's notion: the template produced a non-empty input and a target part. */
  readonly applicable: boolean;
}

// promptsource protects "|||" inside field values before rendering, then restores it.
const PIPE = '|||';
const PIPE_GUARD = '~~~pipe~~~';
const TEXT_VAR_LENGTH = 2048;

type Runtime = { type: string; value: unknown };
type InterpreterLike = {
  evaluate(node: unknown, env: Environment): Runtime;
  run(program: unknown): Runtime;
};
const BaseInterpreter = Interpreter as unknown as new (env: Environment) => InterpreterLike;

/** Interpreter with promptsource's filters and strict top-level field lookup. */
class PromptInterpreter extends BaseInterpreter {
  constructor(
    env: Environment,
    private readonly templateName: string,
    private readonly fields: ReadonlySet<string>,
    private readonly rng: DataRng,
  ) {
    super(env);
    const proto = Object.getPrototypeOf(Object.getPrototypeOf(this)) as Record<string, (...a: unknown[]) => Runtime>;
    const baseApply = proto.applyFilter as (operand: Runtime, filter: unknown, env: Environment) => Runtime;
    const baseIdent = proto.evaluateIdentifier as (node: { value: string }, env: Environment) => Runtime;
    const self = this as unknown as Record<string, unknown>;
    self.applyFilter = (operand: Runtime, filterNode: { type: string; value?: string; callee?: { value?: string } }, env: Environment): Runtime => {
      const name = filterNode.type === 'Identifier' ? filterNode.value : filterNode.callee?.value;
      if (name === 'choice') {
        const items = operand.value;
        if (!Array.isArray(items) || items.length === 0) throw new Error(`filter "choice" needs a non-empty list`);
        return this.rng.pick(items as Runtime[]);
      }
      if (name === 'most_frequent') {
        const items = operand.value as Runtime[];
        const counts = new Map<unknown, { n: number; item: Runtime }>();
        for (const it of items) {
          const c = counts.get(it.value) ?? { n: 0, item: it };
          c.n++;
          counts.set(it.value, c);
        }
        let best: { n: number; item: Runtime } | undefined;
        for (const c of counts.values()) if (best === undefined || c.n > best.n) best = c;
        if (best === undefined) throw new Error('filter "most_frequent" needs a non-empty list');
        return best.item;
      }
      if (name === 'highlight') return operand;
      if (name === 'string' && operand.type !== 'StringValue' && operand.type !== 'ArrayValue' && operand.type !== 'ObjectValue') {
        // @huggingface/jinja has no `string` filter for numbers/booleans; Python's str() does.
        return new StringValueCtor(pyStr(operand));
      }
      return baseApply.call(this, operand, filterNode, env);
    };
    self.evaluateIdentifier = (node: { value: string }, env: Environment): Runtime => {
      const v = baseIdent.call(this, node, env);
      if (v.type === 'UndefinedValue' && !this.fields.has(node.value) && !LOCAL_OK.has(node.value)) {
        throw new TemplateFieldError(this.templateName, node.value);
      }
      return v;
    };
  }
}
// The library does not export its value classes; a rendered program's result is a StringValue.
const StringValueCtor = (new Interpreter(new Environment()).run(parse(tokenize('x'))) as object).constructor as new (v: string) => Runtime;
function pyStr(v: Runtime): string {
  if (v.type === 'BooleanValue') return v.value === true ? 'True' : 'False';
  if (v.type === 'NullValue' || v.type === 'UndefinedValue') return 'None';
  return String(v.value);
}
// Names a template may legitimately look up without the example providing them.
const LOCAL_OK = new Set(['loop', 'namespace']);

function pyRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  const out: number[] = [];
  if (step > 0) for (let i = start; i < stop; i += step) out.push(i);
  else for (let i = start; i > stop; i += step) out.push(i);
  return out;
}

const programCache = new Map<string, unknown>();
function compile(source: string, templateName: string): unknown {
  let program = programCache.get(source);
  if (program === undefined) {
    try {
      // Python jinja2's defaults (promptsource uses them): no trim_blocks / lstrip_blocks.
      program = parse(tokenize(source, { lstrip_blocks: false, trim_blocks: false }));
    } catch (e) {
      throw new Error(`template "${templateName}": cannot parse Jinja: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (programCache.size > 1000) programCache.clear();
    programCache.set(source, program);
  }
  return program;
}

function renderSource(source: string, vars: Record<string, unknown>, templateName: string, rng: DataRng): string {
  const program = compile(source, templateName);
  const env = new Environment();
  for (const [k, v] of [
    ['false', false],
    ['true', true],
    ['none', null],
    ['True', true],
    ['False', false],
    ['None', null],
  ] as const)
    env.set(k, v);
  env.set('range', pyRange);
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env.set(k, v);
  const interp = new PromptInterpreter(env, templateName, new Set(Object.keys(vars)), rng);
  try {
    return String(interp.run(program).value);
  } catch (e) {
    if (e instanceof TemplateFieldError) throw e;
    throw new Error(`template "${templateName}": ${e instanceof Error ? e.message : String(e)}`);
  }
}

function protect(example: Readonly<Record<string, unknown>>, truncate: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(example)) {
    out[k] = typeof v === 'string' ? (truncate ? v.replaceAll(PIPE, PIPE_GUARD).slice(0, TEXT_VAR_LENGTH) : v.replaceAll(PIPE, PIPE_GUARD)) : v;
  }
  return out;
}
const unprotect = (s: string): string => s.replaceAll(PIPE_GUARD, PIPE);
/** Python str.strip(). */
const pyStrip = (s: string): string => s.replace(/^\s+|\s+$/gu, '');

export interface RenderOptions {
  /** Seed for the `choice` filter. Default 0. */
  readonly seed?: number;
  /** Truncate string fields to 2048 characters as promptsource does. Default true. */
  readonly truncate?: boolean;
}

/** The answer choices of a template for an example (undefined when the template has none). */
export function renderAnswerChoices(template: PromptTemplate, example: Readonly<Record<string, unknown>>, options: RenderOptions = {}): string[] | undefined {
  if (template.answerChoices === undefined) return undefined;
  const rng = DataRng.derive(options.seed ?? 0, `${template.id}/choices`);
  const text = renderSource(template.answerChoices, protect(example, false), `${template.dataset}/${template.name} (answer_choices)`, rng);
  return text.split(PIPE).map((c) => unprotect(pyStrip(c)));
}

/** Apply a template to an example (HF field names), like promptsource's Template.apply. */
export function renderTemplate(template: PromptTemplate, example: Readonly<Record<string, unknown>>, options: RenderOptions = {}): RenderedPrompt {
  const answerChoices = renderAnswerChoices(template, example, options);
  const vars = protect(example, options.truncate ?? true);
  if (answerChoices !== undefined) vars.answer_choices = answerChoices;
  const rng = DataRng.derive(options.seed ?? 0, template.id);
  const text = renderSource(template.jinja, vars, `${template.dataset}/${template.name}`, rng);
  const parts = text.split(PIPE).map((p) => unprotect(pyStrip(p)));
  const input = parts[0] ?? '';
  const target = parts.length >= 2 ? (parts[1] as string) : null;
  return {
    input,
    target,
    ...(answerChoices === undefined ? {} : { answerChoices }),
    applicable: parts.length === 2 && input !== '',
  };
}

// ---------------------------------------------------------------------------------------------
// templates.yaml

// promptsource's YAML uses the Python tags !Template and !TemplateMetadata: read them as plain maps.
const PROMPTSOURCE_TAGS: Tags = [
  { tag: '!Template', collection: 'map', resolve: (m: unknown) => m } as unknown as Tags[number],
  { tag: '!TemplateMetadata', collection: 'map', resolve: (m: unknown) => m } as unknown as Tags[number],
];

function toPlain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toPlain(x)]));
  if (Array.isArray(v)) return v.map(toPlain);
  if (v !== null && typeof v === 'object' && 'toJSON' in v && typeof (v as { toJSON: unknown }).toJSON === 'function') {
    return toPlain((v as { toJSON(): unknown }).toJSON());
  }
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPlain(x)]));
  return v;
}

/** Parse a promptsource `templates.yaml`; templates come sorted by name (promptsource's order). */
export function parsePromptsourceYaml(text: string, file = '<templates.yaml>'): { dataset: string; templates: PromptTemplate[] } {
  let doc: unknown;
  try {
    doc = toPlain(parseYamlText(text, { customTags: PROMPTSOURCE_TAGS }));
  } catch (e) {
    const line = (e as { linePos?: { line: number }[] }).linePos?.[0]?.line ?? 0;
    throw new DatasetParseError(file, line, `invalid YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (doc === null || typeof doc !== 'object') throw new DatasetFieldError(file, '<root>', 'a mapping');
  const d = doc as Record<string, unknown>;
  if (typeof d.dataset !== 'string') throw new DatasetFieldError(file, 'dataset', 'a string');
  const dataset = typeof d.subset === 'string' ? `${d.dataset}/${d.subset}` : d.dataset;
  const raw = d.templates;
  if (raw === null || typeof raw !== 'object') throw new DatasetFieldError(file, 'templates', 'a mapping of id to template');
  const templates: PromptTemplate[] = Object.entries(raw as Record<string, unknown>).map(([key, t]) => {
    const where = `templates.${key}`;
    if (t === null || typeof t !== 'object') throw new DatasetFieldError(file, where, 'a template mapping');
    const r = t as Record<string, unknown>;
    if (typeof r.jinja !== 'string') throw new DatasetFieldError(file, `${where}.jinja`, 'a string');
    if (typeof r.name !== 'string') throw new DatasetFieldError(file, `${where}.name`, 'a string');
    const meta = (r.metadata ?? {}) as Record<string, unknown>;
    const tpl: PromptTemplate = {
      id: typeof r.id === 'string' ? r.id : key,
      name: r.name,
      jinja: r.jinja,
      dataset,
      ...(typeof r.answer_choices === 'string' ? { answerChoices: r.answer_choices } : {}),
      ...(typeof meta.original_task === 'boolean' ? { originalTask: meta.original_task } : {}),
      ...(typeof meta.choices_in_prompt === 'boolean' ? { choicesInPrompt: meta.choices_in_prompt } : {}),
      ...(Array.isArray(meta.metrics) ? { metrics: meta.metrics.map(String) } : {}),
      ...(typeof r.reference === 'string' ? { reference: r.reference } : {}),
    };
    return tpl;
  });
  templates.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { dataset, templates };
}
