/**
 * A transformer text classifier's tokenizer: when `tokenizer.json` sits beside the model, the
 * service takes `{"text": ...}` and tokenizes it (templates/src/inference/tokenize.js). This module
 * checks, at generation time, that the graph and the Hugging Face files fit that path and derives
 * the `TokenizerSpec` the service runs with.
 *
 * What is read beside the model (the files a Hugging Face checkpoint ships):
 * - `tokenizer.json` (required): must load in @huggingface/tokenizers, the library the service uses;
 * - `tokenizer_config.json` (optional): `model_max_length`, `pad_token`;
 * - `config.json` (optional): `id2label` (label names), `max_position_embeddings`, `vocab_size`.
 *
 * Label names come from `config.json`'s `id2label` only when they are real names: Hugging Face's
 * placeholders (LABEL_0, LABEL_1, ...) and a missing `config.json` give no labels, so the sidecar
 * (model.schema.json `labels`) or the generator's default class names apply, as for any classifier.
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserError } from '../errors.js';
import type { TensorInfo, TokenizerSpec } from './contract.js';
import { lfsPointerOf, lfsPointerText } from './lfs-pointer.js';

export const tokenizerFileName = 'tokenizer.json';
export const tokenizerConfigFileName = 'tokenizer_config.json';
export const modelConfigFileName = 'config.json';
/** The longest sequence served when neither the graph nor the tokenizer's files bound it. */
export const maxSequenceCap = 512;
/** @huggingface/tokenizers' version, named in messages about what it cannot load. */
const library = '@huggingface/tokenizers 0.2.0';

const knownInputs = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
const floatTypes = new Set(['float32', 'float64']);
const supportedModels = ['WordPiece', 'BPE', 'Unigram'];

export interface TokenizerReading {
  readonly spec: TokenizerSpec;
  /** Class names in logit order, from `config.json`'s `id2label` (real names only). */
  readonly labels?: string[];
}

type Json = Record<string, unknown>;

/**
 * Reads the tokenizer beside `modelPath` against the graph's signature. `undefined` when there is
 * no `tokenizer.json` (the model is not served as text); every misfit is a one-line UserError.
 */
export async function readTokenizer(
  modelPath: string,
  inputs: readonly TensorInfo[],
  outputs: readonly TensorInfo[],
): Promise<TokenizerReading | undefined> {
  const dir = dirname(modelPath);
  const tokenizerPath = join(dir, tokenizerFileName);
  if (!(await exists(tokenizerPath))) return undefined;

  const graph = checkInputs(modelPath, inputs);
  const logits = checkLogits(modelPath, outputs);

  const tokenizerJson = await readJson(tokenizerPath);
  const configPath = join(dir, tokenizerConfigFileName);
  const tokenizerConfig = (await exists(configPath)) ? await readJson(configPath) : undefined;
  const modelConfigPath = join(dir, modelConfigFileName);
  const modelConfig = (await exists(modelConfigPath)) ? await readJson(modelConfigPath) : undefined;

  const tokenizer = loadTokenizer(tokenizerPath, tokenizerJson, tokenizerConfig);
  const specials = specialTokenCount(tokenizer);
  checkVocabulary(tokenizerPath, tokenizer, modelConfig);

  let maxLength: number;
  if (graph.fixedLength !== undefined) {
    maxLength = graph.fixedLength;
  } else {
    const bounds = [
      positive(tokenizerConfig?.model_max_length),
      positive(modelConfig?.max_position_embeddings),
      positive(asObject(tokenizerJson.truncation)?.max_length),
    ].filter((v): v is number => v !== undefined);
    maxLength = Math.min(maxSequenceCap, ...bounds);
  }
  if (maxLength <= specials) {
    throw new UserError(
      `${modelPath}: a sequence length of ${maxLength} leaves no room for text after the tokenizer's ${specials} special tokens: export the model with a longer sequence_length`,
    );
  }

  const spec: TokenizerSpec = {
    file: tokenizerFileName,
    ...(tokenizerConfig ? { configFile: tokenizerConfigFileName } : {}),
    maxLength,
    padToMax: graph.fixedLength !== undefined,
    padId: padIdOf(tokenizer, tokenizerJson, tokenizerConfig, modelConfig),
    inputIds: 'input_ids',
    ...(graph.names.has('attention_mask') ? { attentionMask: 'attention_mask' } : {}),
    ...(graph.names.has('token_type_ids') ? { tokenTypeIds: 'token_type_ids' } : {}),
    logits: logits.name,
  };
  const labels = modelConfig ? labelsOf(modelConfigPath, modelConfig, logits.classes) : undefined;
  return labels ? { spec, labels } : { spec };
}

interface GraphText {
  readonly names: ReadonlySet<string>;
  /** The sequence dimension when the graph fixes it. */
  readonly fixedLength?: number;
}

/**
 * The inputs a tokenizer fills: input_ids and attention_mask (without a mask, padding would change
 * a text's logits whenever texts of different lengths share a batch), token_type_ids if the graph
 * has it; all int64 [batch, sequence] with the same dimensions.
 */
function checkInputs(modelPath: string, inputs: readonly TensorInfo[]): GraphText {
  const expected = `int64 [batch_size, sequence_length] inputs ${knownInputs.join(', ')}`;
  const unknown = inputs.filter((i) => !(knownInputs as readonly string[]).includes(i.name));
  if (unknown.length > 0) {
    throw new UserError(
      `${modelPath}: input${unknown.length > 1 ? 's' : ''} ${unknown.map((i) => `"${i.name}"`).join(', ')} cannot be filled from a tokenizer (a text classifier takes ${expected}): re-export the model without ${unknown.length > 1 ? 'them' : 'it'}, or remove tokenizer.json to serve it as tensors`,
    );
  }
  for (const required of ['input_ids', 'attention_mask']) {
    if (!inputs.some((i) => i.name === required)) {
      throw new UserError(
        `${modelPath}: the model has no "${required}" input, which a text classifier with tokenizer.json needs (${expected}): re-export it with ${required} (optimum-cli export onnx --task text-classification), or remove tokenizer.json to serve it as tensors`,
      );
    }
  }
  for (const input of inputs) {
    if (input.type !== 'int64' || input.shape.length !== 2) {
      throw new UserError(
        `${modelPath}: input "${input.name}" is ${input.type} [${input.shape.map(dim).join(', ')}], a tokenizer fills ${expected}: re-export it as int64 [batch_size, sequence_length]`,
      );
    }
  }
  const fixed = new Set<number>();
  const batch = new Set<string>();
  for (const input of inputs) {
    batch.add(String(input.shape[0]));
    if (typeof input.shape[1] === 'number') fixed.add(input.shape[1]);
  }
  if (batch.size > 1 || fixed.size > 1) {
    throw new UserError(
      `${modelPath}: the inputs ${inputs.map((i) => `${i.name} [${i.shape.map(dim).join(', ')}]`).join(', ')} disagree on their batch or sequence dimension: re-export them with the same [batch_size, sequence_length]`,
    );
  }
  const [fixedLength] = [...fixed];
  return {
    names: new Set(inputs.map((i) => i.name)),
    ...(fixedLength !== undefined ? { fixedLength } : {}),
  };
}

/** The logits: the output named `logits`, or the only float output; float [batch, C], C >= 2. */
function checkLogits(
  modelPath: string,
  outputs: readonly TensorInfo[],
): { name: string; classes: number } {
  const floats = outputs.filter((o) => floatTypes.has(o.type));
  const logits =
    outputs.find((o) => o.name === 'logits') ?? (floats.length === 1 ? floats[0] : undefined);
  const listed = outputs
    .map((o) => `${o.name} ${o.type} [${o.shape.map(dim).join(', ')}]`)
    .join(', ');
  if (!logits) {
    throw new UserError(
      `${modelPath}: no output is the classifier's logits (outputs: ${listed}); a text classifier needs one float output [batch_size, classes] named "logits": re-export it with optimum-cli export onnx --task text-classification`,
    );
  }
  const classes = logits.shape[1];
  if (!floatTypes.has(logits.type) || logits.shape.length !== 2 || typeof classes !== 'number') {
    throw new UserError(
      `${modelPath}: output "${logits.name}" is ${logits.type} [${logits.shape.map(dim).join(', ')}]; the logits of a text classifier are float32 [batch_size, classes] with a fixed number of classes: export a sequence-classification head (AutoModelForSequenceClassification)`,
    );
  }
  if (classes < 2) {
    throw new UserError(
      `${modelPath}: output "${logits.name}" has ${classes} column; the service returns softmax probabilities over at least 2 classes: a 1-logit (regression or single-sigmoid) head is not a text classifier it can serve, remove tokenizer.json to serve it as tensors`,
    );
  }
  return { name: logits.name, classes };
}

function loadTokenizer(path: string, json: Json, config: Json | undefined): Tokenizer {
  for (const key of ['model', 'normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
    if (!(key in json)) {
      throw new UserError(
        `${path} has no "${key}" entry: it is not a tokenizer.json as Hugging Face tokenizers saves it; save it with tokenizer.save_pretrained() (a fast tokenizer)`,
      );
    }
  }
  if (!Array.isArray(json.added_tokens)) {
    throw new UserError(
      `${path} has no "added_tokens" list: save it with tokenizer.save_pretrained() (a fast tokenizer)`,
    );
  }
  // The library guesses a model it does not know from its fields (WordLevel would silently become
  // its "Legacy" model): only the types it implements are accepted.
  const modelType = asObject(json.model)?.type;
  if (typeof modelType === 'string' && !supportedModels.includes(modelType)) {
    throw new UserError(
      `${path}: its model type "${modelType}" is not supported by ${library} (the service's tokenizer; it has ${supportedModels.join(', ')}): use a tokenizer with a supported model, or remove tokenizer.json to serve the model as tensors`,
    );
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config ?? {});
  } catch (err) {
    throw unsupported(path, json, err);
  }
  try {
    tokenizer.encode('The service checks its tokenizer: 123, déjà vu!');
  } catch (err) {
    throw new UserError(
      `${path} loads but cannot encode text in ${library}: ${firstLine(err)}; re-save the tokenizer with supported components or remove tokenizer.json to serve the model as tensors`,
    );
  }
  return tokenizer;
}

const componentErrors: ReadonlyArray<[RegExp, string, string]> = [
  [/Unknown Normalizer type: (.*)/, 'normalizer', 'normalizer'],
  [/Unknown PreTokenizer type: (.*)/, 'pre-tokenizer', 'pre_tokenizer'],
  [/Unknown TokenizerModel type: (.*)/, 'model', 'model'],
  [/Unknown PostProcessor type: (.*)/, 'post-processor', 'post_processor'],
  [/Unknown Decoder type: (.*)/, 'decoder', 'decoder'],
];

function unsupported(path: string, json: Json, err: unknown): UserError {
  const message = firstLine(err);
  for (const [pattern, what, key] of componentErrors) {
    const match = pattern.exec(message);
    if (match) {
      const type =
        match[1] === 'undefined' ? `${JSON.stringify(asObject(json[key])?.type)}` : `"${match[1]}"`;
      return new UserError(
        `${path}: its ${what} type ${type} is not supported by ${library} (the service's tokenizer): re-save the tokenizer with a supported ${what}, or remove tokenizer.json to serve the model as tensors`,
      );
    }
  }
  return new UserError(
    `${path} cannot be loaded by ${library} (the service's tokenizer): ${message}; re-save it with tokenizer.save_pretrained(), or remove tokenizer.json to serve the model as tensors`,
  );
}

/** Tokens the post-processor adds around one text ([CLS] and [SEP] for BERT). */
function specialTokenCount(tokenizer: Tokenizer): number {
  const post = tokenizer.post_processor;
  return post ? post([], null, true).tokens.length : 0;
}

/** The tokenizer must not produce ids beyond the model's embedding table. */
function checkVocabulary(path: string, tokenizer: Tokenizer, modelConfig: Json | undefined): void {
  const vocabSize = positive(modelConfig?.vocab_size);
  if (vocabSize === undefined) return;
  let largest = -1;
  for (const id of tokenizer.get_vocab(true).values()) largest = Math.max(largest, id);
  if (largest >= vocabSize) {
    throw new UserError(
      `${path} has token ids up to ${largest} but config.json's vocab_size is ${vocabSize}: the tokenizer belongs to another model; copy the tokenizer files saved with this model`,
    );
  }
}

function padIdOf(
  tokenizer: Tokenizer,
  json: Json,
  config: Json | undefined,
  modelConfig: Json | undefined,
): number {
  const fromPadding = asObject(json.padding)?.pad_id;
  if (typeof fromPadding === 'number') return fromPadding;
  const configured = config?.pad_token;
  const padToken = typeof configured === 'string' ? configured : asObject(configured)?.content;
  for (const token of [padToken, '[PAD]', '<pad>']) {
    if (typeof token !== 'string') continue;
    const id = tokenizer.token_to_id(token);
    if (id !== undefined) return id;
  }
  const fromModel = modelConfig?.pad_token_id;
  // Without a pad token any id will do: padded positions are masked out (attention mask 0).
  return typeof fromModel === 'number' && Number.isInteger(fromModel) && fromModel >= 0
    ? fromModel
    : 0;
}

/**
 * `id2label` in index order. Undefined for Hugging Face's placeholders (LABEL_0, ...), so that a
 * sidecar's labels or the generator's defaults apply.
 */
function labelsOf(path: string, config: Json, classes: number): string[] | undefined {
  const id2label = asObject(config.id2label);
  if (!id2label) return undefined;
  const entries = Object.entries(id2label);
  const labels: string[] = [];
  const seen = new Set<number>();
  for (const [key, value] of entries) {
    const index = Number(key);
    if (
      !/^\d+$/.test(key) ||
      index >= entries.length ||
      seen.has(index) ||
      typeof value !== 'string'
    ) {
      throw new UserError(
        `${path}: id2label must map the class indexes 0..${entries.length - 1} to names; entry "${key}": ${JSON.stringify(value)} does not: fix id2label`,
      );
    }
    seen.add(index);
    labels[index] = value;
  }
  if (labels.length !== classes) {
    throw new UserError(
      `${path}: id2label names ${labels.length} classes but the model's logits have ${classes}: fix id2label (and label2id) to list the ${classes} classes in logit order`,
    );
  }
  if (new Set(labels).size !== labels.length) {
    throw new UserError(
      `${path}: id2label repeats a class name (${labels.join(', ')}): give each class its own name`,
    );
  }
  const placeholders = labels.every((label, i) => label === `LABEL_${i}`);
  return placeholders ? undefined : labels;
}

function positive(value: unknown): number | undefined {
  // tokenizer_config.json says model_max_length 1e30 (VERY_LARGE_INTEGER) when it has no bound.
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 1e9
    ? value
    : undefined;
}

function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function dim(d: number | string): string {
  return d === '' ? '?' : String(d);
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 300);
}

async function readJson(path: string): Promise<Json> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`Cannot read ${path}: ${firstLine(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // A Hugging Face clone without git-lfs: large tokenizer.json files are kept in LFS too.
    const pointer = lfsPointerOf(Buffer.from(text));
    if (pointer) throw new UserError(`${path} ${lfsPointerText(pointer, 'the file')}`);
    throw new UserError(
      `${path} is not valid JSON (${firstLine(err)}): restore it from the model's checkpoint`,
    );
  }
  const object = asObject(value);
  if (!object)
    throw new UserError(`${path} must hold a JSON object: restore it from the model's checkpoint`);
  return object;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
