/**
 * What one explanation costs, counted before it runs: permutation sampling evaluates
 * `samples x (features + 1)` rows, and a row of a text model costs as much as its text has tokens
 * (words, at least 1). `EXPLAIN_MAX_WORK` bounds the product, so one request cannot hold the
 * explanation worker for minutes or grow its memory by gigabytes.
 */
import type { ModelContract } from '../model/contract-types.js';
import type { Row } from '../model/schemas.js';

export interface ExplainCost {
  /** Rows the model evaluates. */
  readonly evaluations: number;
  /** Words in the record's text features (1 for a model without text). */
  readonly tokens: number;
  /** evaluations x tokens: what `EXPLAIN_MAX_WORK` bounds. */
  readonly work: number;
  /** Rows per model run, so one run holds about as much text as 4096 one-token rows. */
  readonly chunkRows: number;
}

const rowsPerRun = 4096;

/** Explanations allowed to wait while one runs (the explanation pool queues as many). */
export const explainQueue = 4;

export function explainCost(contract: ModelContract, row: Row, samples: number): ExplainCost {
  let tokens = 0;
  for (const feature of contract.features) {
    const value = row[feature.name];
    if (feature.type === 'text' && typeof value === 'string') tokens += words(value);
  }
  tokens = Math.max(1, tokens);
  const evaluations = samples * (contract.features.length + 1);
  return {
    evaluations,
    tokens,
    work: evaluations * tokens,
    chunkRows: Math.max(16, Math.floor(rowsPerRun / tokens)),
  };
}

/** The largest sample count within `maxWork` for this record (0: not even the minimum). */
export function maxSamples(contract: ModelContract, cost: ExplainCost, maxWork: number): number {
  return Math.floor(maxWork / ((contract.features.length + 1) * cost.tokens));
}

function words(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13);
    if (!space && !inWord) count += 1;
    inWord = !space;
  }
  return count;
}
