// @ts-check
/**
 * Text -> token tensors for a transformer text classifier, inside the inference worker thread.
 *
 * Tokenization is the model's own `tokenizer.json` run by @huggingface/tokenizers (pure
 * JavaScript, the same components as the Rust `tokenizers` the model was trained with). That
 * library has no truncation or padding (its `encode` returns every token of the text), so both are
 * done here, the way `tokenizers` does them with `truncation=True, padding=True`: the text's own
 * tokens are cut to leave room for the special tokens the post-processor adds (for BERT "[CLS] ...
 * [SEP]", the final [SEP] is always kept), then every row is padded with the pad id to the longest
 * row of the batch, or to `maxLength` when the graph's sequence length is fixed. Padded positions
 * have attention mask 0 and token type 0, so padding never changes a text's logits.
 *
 * Plain JavaScript on purpose: worker threads load it as it is, in the tests and in production.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

/**
 * The part of the contract's `TokenizerSpec` the encoder reads.
 * @typedef {{
 *   file: string,
 *   configFile?: string,
 *   maxLength: number,
 *   padToMax: boolean,
 *   padId: number,
 * }} TextEncoderSpec
 * @typedef {{ dims: [number, number], ids: BigInt64Array, mask: BigInt64Array, typeIds: BigInt64Array }} EncodedBatch
 * @typedef {{ ids: number[], typeIds: number[] }} EncodedText
 * @typedef {{ encodeBatch: (texts: ReadonlyArray<string>) => EncodedBatch }} TextEncoder
 */

/** @param {string} path */
async function readJson(path) {
  return /** @type {Record<string, unknown>} */ (JSON.parse(await readFile(path, 'utf8')));
}

/**
 * Loads the model's tokenizer from `modelDir` (`spec.file`, and `spec.configFile` when set) and
 * returns the batch encoder: `encodeBatch(texts)` gives the `[n, length]` token ids, attention mask
 * and token type ids of the texts, row-major.
 *
 * @param {TextEncoderSpec} spec
 * @param {string} modelDir
 * @returns {Promise<TextEncoder>}
 */
export async function createTextEncoder(spec, modelDir) {
  const tokenizerJson = await readJson(join(modelDir, spec.file));
  const config = spec.configFile ? await readJson(join(modelDir, spec.configFile)) : {};
  return textEncoder(new Tokenizer(tokenizerJson, config), spec);
}

/**
 * @param {Tokenizer} tokenizer
 * @param {TextEncoderSpec} spec
 * @returns {TextEncoder}
 */
function textEncoder(tokenizer, spec) {
  const post = tokenizer.post_processor;
  /** How many tokens the post-processor adds around a text ([CLS] and [SEP] for BERT). */
  const specials = post ? post([], null, true).tokens.length : 0;
  const budget = spec.maxLength - specials;
  if (!Number.isInteger(spec.maxLength) || budget < 1) {
    throw new Error(
      `the tokenizer's maxLength ${spec.maxLength} leaves no room for text after its ${specials} special tokens`,
    );
  }
  const unknownId = tokenizer.model?.unk_token_id;
  const pad = BigInt(spec.padId);

  /** @param {string} text @returns {EncodedText} */
  function encodeOne(text) {
    const own = tokenizer.tokenize(text); // the text's tokens, no special tokens
    const kept = own.length > budget ? own.slice(0, budget) : own;
    /** @type {{ tokens: string[], token_type_ids?: number[] }} */
    const done = post ? post(kept, null, true) : { tokens: kept };
    const ids = done.tokens.map((token) => {
      const id = tokenizer.token_to_id(token) ?? unknownId;
      if (id === undefined)
        throw new Error(`token "${token}" is not in the tokenizer's vocabulary`);
      return id;
    });
    const typeIds = done.token_type_ids ?? new Array(ids.length).fill(0);
    return { ids, typeIds };
  }

  /** @param {ReadonlyArray<string>} texts @returns {EncodedBatch} */
  function encodeBatch(texts) {
    const rows = texts.map(encodeOne);
    let length = spec.padToMax ? spec.maxLength : 0;
    if (!spec.padToMax) for (const row of rows) length = Math.max(length, row.ids.length);
    const n = rows.length;
    const ids = new BigInt64Array(n * length).fill(pad);
    const mask = new BigInt64Array(n * length);
    const typeIds = new BigInt64Array(n * length);
    for (let r = 0; r < n; r++) {
      const row = /** @type {EncodedText} */ (rows[r]);
      const at = r * length;
      for (let i = 0; i < row.ids.length; i++) {
        ids[at + i] = BigInt(/** @type {number} */ (row.ids[i]));
        mask[at + i] = 1n;
        typeIds[at + i] = BigInt(/** @type {number} */ (row.typeIds[i]));
      }
    }
    return { dims: [n, length], ids, mask, typeIds };
  }
  return { encodeBatch };
}
