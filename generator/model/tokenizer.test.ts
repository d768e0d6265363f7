import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { fixturesDir, tempDir } from '../test-support/cli.js';
import { packageRoot } from '../version.js';
import type { TensorInfo, TokenizerSpec } from './contract.js';
import { readSignature } from './signature.js';
import { readTokenizer } from './tokenizer.js';

const transformerDir = join(fixturesDir, 'wild/transformer');
const fixedDir = join(transformerDir, 'fixed');

interface Expected {
  readonly maxLength: number;
  readonly labels: string[] | null;
  readonly texts: string[];
  readonly input_ids: number[][];
  readonly logits: number[][];
}
interface EncodedBatch {
  dims: [number, number];
  ids: BigInt64Array;
  mask: BigInt64Array;
  typeIds: BigInt64Array;
}
interface TokenizeModule {
  createTextEncoder(
    spec: TokenizerSpec,
    modelDir: string,
  ): Promise<{ encodeBatch(texts: readonly string[]): EncodedBatch }>;
}

/** The worker's module, imported as the service runs it (plain JS from templates/). */
const tokenizeModule = import(
  pathToFileURL(join(packageRoot, 'templates/src/inference/tokenize.js')).href
) as Promise<TokenizeModule>;

async function expectedOf(dir: string): Promise<Expected> {
  return JSON.parse(await readFile(join(dir, 'expected.json'), 'utf8')) as Expected;
}

async function signatureOf(dir: string) {
  const path = join(dir, 'model.onnx');
  return readSignature(await readFile(path), path);
}

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

/** A copy of the dynamic fixture's folder, with files replaced (undefined deletes one). */
async function brokenCopy(files: Record<string, unknown>): Promise<string> {
  const dir = await tempDir('cms-tokenizer-');
  temps.push(dir);
  await cp(transformerDir, dir, { recursive: true, filter: (src) => !src.endsWith('fixed') });
  for (const [name, content] of Object.entries(files)) {
    if (content === undefined) await rm(join(dir, name));
    else
      await writeFile(
        join(dir, name),
        typeof content === 'string' ? content : JSON.stringify(content),
      );
  }
  return join(dir, 'model.onnx');
}

async function jsonOf(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(transformerDir, name), 'utf8')) as Record<string, unknown>;
}

async function errorOf(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

async function runModel(
  dir: string,
  batch: EncodedBatch,
  mask?: BigInt64Array,
): Promise<number[][]> {
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  try {
    const dims = batch.dims;
    const out = await session.run({
      input_ids: new ort.Tensor('int64', batch.ids, dims),
      attention_mask: new ort.Tensor('int64', mask ?? batch.mask, dims),
      token_type_ids: new ort.Tensor('int64', batch.typeIds, dims),
    });
    const logits = out.logits!;
    const [n, c] = logits.dims.map(Number) as [number, number];
    const data = logits.data as Float32Array;
    return Array.from({ length: n }, (_, r) => Array.from(data.subarray(r * c, (r + 1) * c)));
  } finally {
    await session.release();
  }
}

function rowsOf(batch: EncodedBatch, data: BigInt64Array): number[][] {
  const [n, len] = batch.dims;
  return Array.from({ length: n }, (_, r) =>
    Array.from(data.subarray(r * len, (r + 1) * len), Number),
  );
}

/** The row's ids up to its padding (attention mask 1). */
function unpadded(batch: EncodedBatch): number[][] {
  const masks = rowsOf(batch, batch.mask);
  return rowsOf(batch, batch.ids).map((ids, r) => ids.filter((_, i) => masks[r]![i] === 1));
}

function expectClose(actual: number[][], expected: number[][], tolerance: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, r) =>
    row.forEach((v, c) =>
      expect(Math.abs(v - expected[r]![c]!), `row ${r} col ${c}`).toBeLessThan(tolerance),
    ),
  );
}

describe('readTokenizer on the transformer fixtures', () => {
  it('reads a dynamic-length BERT classifier: spec from the tokenizer files, labels from id2label', async () => {
    const modelPath = join(transformerDir, 'model.onnx');
    const { inputs, outputs } = await signatureOf(transformerDir);
    const reading = await readTokenizer(modelPath, inputs, outputs);
    expect(reading).toEqual({
      spec: {
        file: 'tokenizer.json',
        configFile: 'tokenizer_config.json',
        maxLength: 64,
        padToMax: false,
        padId: 0,
        inputIds: 'input_ids',
        attentionMask: 'attention_mask',
        tokenTypeIds: 'token_type_ids',
        logits: 'logits',
      },
      labels: ['positive', 'negative', 'neutral'],
    });
  });

  it('reads a fixed-length export: maxLength is the graph sequence length, padded to it, no labels without config.json', async () => {
    const { inputs, outputs } = await signatureOf(fixedDir);
    expect(inputs[0]!.shape).toEqual(['batch_size', 16]);
    const reading = await readTokenizer(join(fixedDir, 'model.onnx'), inputs, outputs);
    expect(reading?.spec).toMatchObject({ maxLength: 16, padToMax: true, padId: 0 });
    expect(reading?.labels).toBeUndefined();
  });

  it('returns undefined when no tokenizer.json sits beside the model', async () => {
    const path = join(fixturesDir, 'tabular.onnx');
    const { inputs, outputs } = await readSignature(await readFile(path), path);
    expect(await readTokenizer(path, inputs, outputs)).toBeUndefined();
  });

  it('takes the shortest bound of tokenizer.json truncation, tokenizer_config and config, capped at 512', async () => {
    const { inputs, outputs } = await signatureOf(transformerDir);
    const tokenizer = await jsonOf('tokenizer.json');
    const truncation = { direction: 'Right', max_length: 32, strategy: 'LongestFirst', stride: 0 };
    let path = await brokenCopy({ 'tokenizer.json': { ...tokenizer, truncation } });
    expect((await readTokenizer(path, inputs, outputs))?.spec.maxLength).toBe(32);

    const unbounded = { ...(await jsonOf('tokenizer_config.json')), model_max_length: 1e30 };
    const config = await jsonOf('config.json');
    delete config.max_position_embeddings;
    path = await brokenCopy({ 'tokenizer_config.json': unbounded, 'config.json': config });
    expect((await readTokenizer(path, inputs, outputs))?.spec.maxLength).toBe(512);
  });

  it('serves without token_type_ids (DistilBERT-like exports) and takes the pad id from tokenizer.json padding', async () => {
    const { inputs, outputs } = await signatureOf(transformerDir);
    const tokenizer = await jsonOf('tokenizer.json');
    const padding = {
      strategy: 'BatchLongest',
      direction: 'Right',
      pad_to_multiple_of: null,
      pad_id: 4,
      pad_type_id: 0,
      pad_token: '[MASK]',
    };
    const path = await brokenCopy({ 'tokenizer.json': { ...tokenizer, padding } });
    const reading = await readTokenizer(
      path,
      inputs.filter((i) => i.name !== 'token_type_ids'),
      outputs,
    );
    expect(reading?.spec.tokenTypeIds).toBeUndefined();
    expect(reading?.spec.padId).toBe(4);
  });

  it('treats Hugging Face placeholder labels (LABEL_0..) as no labels', async () => {
    const { inputs, outputs } = await signatureOf(transformerDir);
    const config = {
      ...(await jsonOf('config.json')),
      id2label: { 0: 'LABEL_0', 1: 'LABEL_1', 2: 'LABEL_2' },
    };
    const path = await brokenCopy({ 'config.json': config });
    expect((await readTokenizer(path, inputs, outputs))?.labels).toBeUndefined();
  });
});

describe('readTokenizer refuses what the text path cannot serve', () => {
  const signature = signatureOf(transformerDir);
  const modelPath = join(transformerDir, 'model.onnx');
  const retype = (inputs: readonly TensorInfo[], name: string, change: Partial<TensorInfo>) =>
    inputs.map((i) => (i.name === name ? { ...i, ...change } : i));

  it('a missing attention_mask or input_ids input', async () => {
    const { inputs, outputs } = await signature;
    for (const missing of ['attention_mask', 'input_ids']) {
      const err = await errorOf(
        readTokenizer(
          modelPath,
          inputs.filter((i) => i.name !== missing),
          outputs,
        ),
      );
      expect(err.message).toContain(`no "${missing}" input`);
      expect(err.message).toMatch(/re-export it with/);
    }
  });

  it('an input a tokenizer cannot fill, named', async () => {
    const { inputs, outputs } = await signature;
    const extra = { name: 'position_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] };
    const err = await errorOf(readTokenizer(modelPath, [...inputs, extra], outputs));
    expect(err.message).toContain('input "position_ids" cannot be filled from a tokenizer');
  });

  it('int32 or rank-1 inputs, and inputs that disagree on the sequence length', async () => {
    const { inputs, outputs } = await signature;
    let err = await errorOf(
      readTokenizer(modelPath, retype(inputs, 'input_ids', { type: 'int32' }), outputs),
    );
    expect(err.message).toContain('input "input_ids" is int32 [batch_size, sequence_length]');
    err = await errorOf(
      readTokenizer(
        modelPath,
        retype(inputs, 'attention_mask', { shape: ['batch_size'] }),
        outputs,
      ),
    );
    expect(err.message).toContain('"attention_mask" is int64 [batch_size]');
    const mixed = retype(
      retype(inputs, 'input_ids', { shape: ['batch_size', 16] }),
      'attention_mask',
      {
        shape: ['batch_size', 32],
      },
    );
    err = await errorOf(readTokenizer(modelPath, mixed, outputs));
    expect(err.message).toContain('disagree on their batch or sequence dimension');
  });

  it('no logits output, or logits that are not [batch, C >= 2]', async () => {
    const { inputs, outputs } = await signature;
    const hidden = {
      name: 'last_hidden_state',
      type: 'float32',
      shape: ['batch_size', 'sequence_length', 32],
    };
    const pooled = { name: 'pooler_output', type: 'float32', shape: ['batch_size', 32] };
    let err = await errorOf(readTokenizer(modelPath, inputs, [hidden, pooled]));
    expect(err.message).toContain("no output is the classifier's logits");
    err = await errorOf(readTokenizer(modelPath, inputs, [{ ...hidden, name: 'logits' }]));
    expect(err.message).toContain('output "logits" is float32 [batch_size, sequence_length, 32]');
    err = await errorOf(
      readTokenizer(modelPath, inputs, [
        { name: 'logits', type: 'float32', shape: ['batch_size', 1] },
      ]),
    );
    expect(err.message).toContain('at least 2 classes');
    // The only float output is the logits whatever its name.
    const renamed = await readTokenizer(modelPath, inputs, [{ ...outputs[0]!, name: 'scores' }]);
    expect(renamed?.spec.logits).toBe('scores');
  });

  it('a tokenizer.json component @huggingface/tokenizers does not support, named', async () => {
    const { inputs, outputs } = await signature;
    const tokenizer = await jsonOf('tokenizer.json');
    let path = await brokenCopy({
      'tokenizer.json': { ...tokenizer, normalizer: { type: 'Unheard' } },
    });
    let err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toContain(
      'its normalizer type "Unheard" is not supported by @huggingface/tokenizers',
    );
    path = await brokenCopy({
      'tokenizer.json': { ...tokenizer, model: { type: 'Mystery', vocab: 7 } },
    });
    err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toContain('its model type "Mystery" is not supported');
  });

  it('a tokenizer.json that is not JSON or not in the saved format', async () => {
    const { inputs, outputs } = await signature;
    let path = await brokenCopy({ 'tokenizer.json': '{"version": "1.0", ' });
    let err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toMatch(/tokenizer\.json is not valid JSON \(.*\): restore it/);
    // A clone without git-lfs (XLM-R's 17 MB tokenizer.json is kept in LFS on the Hub).
    path = await brokenCopy({
      'tokenizer.json': `version https://git-lfs.github.com/spec/v1\noid sha256:${'ab'.repeat(32)}\nsize 17082734\n`,
    });
    err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toMatch(
      /tokenizer\.json is a Git LFS pointer \(sha256 abababababab, 16\.3 MiB\), not the file: run `git lfs pull` in its repository to fetch the file/,
    );
    const tokenizer = await jsonOf('tokenizer.json');
    delete tokenizer.decoder;
    path = await brokenCopy({ 'tokenizer.json': tokenizer });
    err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toContain('has no "decoder" entry');
  });

  it('id2label that does not name every logit, and a tokenizer larger than the model vocabulary', async () => {
    const { inputs, outputs } = await signature;
    const config = await jsonOf('config.json');
    let path = await brokenCopy({
      'config.json': { ...config, id2label: { 0: 'positive', 1: 'negative' } },
    });
    let err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toContain("id2label names 2 classes but the model's logits have 3");
    path = await brokenCopy({
      'config.json': { ...config, id2label: { 0: 'up', 2: 'down', 3: 'flat' } },
    });
    err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toContain('id2label must map the class indexes 0..2');
    path = await brokenCopy({ 'config.json': { ...config, vocab_size: 100 } });
    err = await errorOf(readTokenizer(path, inputs, outputs));
    expect(err.message).toMatch(/token ids up to 289 but config\.json's vocab_size is 100/);
  });
});

describe('the service text encoder (templates/src/inference/tokenize.js)', () => {
  async function encoderFor(dir: string) {
    const { inputs, outputs } = await signatureOf(dir);
    const reading = await readTokenizer(join(dir, 'model.onnx'), inputs, outputs);
    const { createTextEncoder } = await tokenizeModule;
    const encoder = await createTextEncoder(reading!.spec, dir);
    return (texts: readonly string[]) => encoder.encodeBatch(texts);
  }

  it('encodes each text to the reference ids: accents stripped, unknown words [UNK], truncated to 64 keeping [SEP]', async () => {
    const expected = await expectedOf(transformerDir);
    const encode = await encoderFor(transformerDir);
    for (const [i, text] of expected.texts.entries()) {
      const batch = encode([text]);
      const ids = expected.input_ids[i]!;
      expect(batch.dims).toEqual([1, ids.length]);
      expect(rowsOf(batch, batch.ids)[0]).toEqual(ids);
      expect(rowsOf(batch, batch.mask)[0]).toEqual(ids.map(() => 1));
      expect(rowsOf(batch, batch.typeIds)[0]).toEqual(ids.map(() => 0));
    }
    const long = expected.input_ids[5]!;
    expect(long).toHaveLength(64);
    expect([long[0], long[63]]).toEqual([2, 3]); // [CLS] ... [SEP]
    expect(expected.input_ids[3]).toContain(1); // [UNK]
  });

  it('pads a mixed batch to its longest text, and the model gives every text its own logits', async () => {
    const expected = await expectedOf(transformerDir);
    const encode = await encoderFor(transformerDir);
    const batch = encode(expected.texts);
    expect(batch.dims).toEqual([6, 64]);
    expect(unpadded(batch)).toEqual(expected.input_ids);
    const short = rowsOf(batch, batch.ids)[2]!;
    expect(short.slice(expected.input_ids[2]!.length)).toEqual(new Array(64 - 11).fill(0)); // [PAD]
    expectClose(await runModel(transformerDir, batch), expected.logits, 1e-4);

    // One at a time gives the same logits: padding changed nothing.
    const alone = await Promise.all(
      expected.texts.map((t) => runModel(transformerDir, encode([t]))),
    );
    expectClose(
      alone.map((r) => r[0]!),
      expected.logits,
      1e-4,
    );

    // ... because of the attention mask: with padding unmasked the short texts' logits move.
    const unmasked = await runModel(
      transformerDir,
      batch,
      new BigInt64Array(batch.ids.length).fill(1n),
    );
    const moved = unmasked.map((row, r) =>
      Math.max(...row.map((v, c) => Math.abs(v - expected.logits[r]![c]!))),
    );
    expect(moved.slice(0, 5).every((d) => d > 1e-2)).toBe(true);
    expect(moved[5]).toBeLessThan(1e-4); // the longest text has no padding
  });

  it('a fixed-length graph: every row truncated and padded to 16, logits as the reference', async () => {
    const expected = await expectedOf(fixedDir);
    const encode = await encoderFor(fixedDir);
    const batch = encode(expected.texts.slice(0, 3));
    expect(batch.dims).toEqual([3, 16]);
    const all = encode(expected.texts);
    expect(all.dims).toEqual([6, 16]);
    expect(unpadded(all)).toEqual(expected.input_ids);
    expect(rowsOf(all, all.ids).map((r) => r.filter((_, i) => i < 16).length)).toEqual(
      new Array(6).fill(16),
    );
    expect(unpadded(all).map((r) => r.at(-1))).toEqual(new Array(6).fill(3)); // every row ends with [SEP]
    expectClose(await runModel(fixedDir, all), expected.logits, 1e-4);
  });

  it('an empty text is [CLS] [SEP]; an empty batch is empty', async () => {
    const encode = await encoderFor(transformerDir);
    const batch = encode(['']);
    expect(batch.dims).toEqual([1, 2]);
    expect(Array.from(batch.ids, Number)).toEqual([2, 3]);
    expect(encode([]).dims).toEqual([0, 0]);
  });
});
