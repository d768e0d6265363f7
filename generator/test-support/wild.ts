/** The wild corpus of fixture models (`__fixtures__/models/wild/`) and its manifest. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fixturesDir } from './cli.js';

export const wildDir = join(fixturesDir, 'wild');

export interface WildFixture {
  readonly file: string;
  readonly mimics: string;
  readonly accept: boolean;
  readonly task: string | null;
  readonly labels?: string[];
  readonly batching?: 'merge' | 'fixed' | 'none';
  readonly batchSize?: number;
  readonly refusal?: string;
  readonly samples?: {
    inputs?: Record<string, unknown[][]>;
    records?: Array<Record<string, unknown>>;
    predict?: Array<string | number>;
    predict_proba?: number[][];
    transform?: Record<string, number[][]>;
    /** Output name -> the estimator's decision_function or distances for the sample rows. */
    scores?: Record<string, number[][]>;
  };
  readonly tolerance?: number;
  /** The weights file the graph reads beside it (external data), and the tensors kept there. */
  readonly externalData?: { readonly file: string; readonly tensors: readonly string[] };
  /** The task the graph cannot state, as the user passes it (`--task`). */
  readonly taskFlag?: string;
  /** How the class-probability output holds the scores (the contract's `scores`). */
  readonly scores?: string;
  /** Words of what a classifier-shaped output holds instead of probabilities (`rawScores`). */
  readonly rawScores?: string;
}

export async function wildManifest(): Promise<WildFixture[]> {
  const json = JSON.parse(await readFile(join(wildDir, 'manifest.json'), 'utf8')) as {
    fixtures: WildFixture[];
  };
  return json.fixtures;
}
